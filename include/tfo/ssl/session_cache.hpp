//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_SSL_SESSION_CACHE_HPP
#define TFO_SSL_SESSION_CACHE_HPP

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace tfo::ssl {

namespace detail {
struct session_store; // in src/ssl/session_cache.cpp
}

/// A client-side store of TLS sessions (TLS 1.3 tickets), so that a repeat
/// connection resumes the session and can send early data.
///
/// Keyed by server host and port. Thread-safe: connections on any thread
/// store and take tickets concurrently. Bounded: at most `limits::servers`
/// servers (the least recently used is forgotten first) and
/// `limits::tickets_per_server` tickets each (the oldest goes first). A
/// ticket past its lifetime (the session's timeout and the server's
/// `ticket_lifetime`, at most 7 days as RFC 8446 section 4.6.1 allows) is
/// never handed out.
///
/// TLS 1.3 tickets are used once: `resume` takes the ticket out of the cache.
/// RFC 8446 (appendix C.4) asks clients not to reuse them, and servers with
/// anti-replay protection, OpenSSL's by default when early data is on,
/// accept each only once. Servers usually send several tickets after a full
/// handshake (OpenSSL and nginx send 2), and every connection can bring new
/// ones; the cache keeps them all, up to the bound. A TLS 1.2 session stays
/// in the cache and may be used again.
///
/// The cache keeps its own copies (`SSL_SESSION_dup`) of the sessions that
/// OpenSSL hands over: the originals belong to their connection, and OpenSSL
/// marks them not resumable when that connection ends without a clean
/// shutdown.
///
/// @par Example
/// @code
/// boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
/// tfo::ssl::session_cache cache(context);
/// // for each connection:
/// boost::asio::ssl::stream<tcp::socket> stream(executor, context);
/// SSL_set_tlsext_host_name(stream.native_handle(), "example.com");
/// cache.resume(stream, "example.com", 443);
/// @endcode
class session_cache
{
public:
    /// The bounds of a cache.
    struct limits
    {
        /// How many servers (host and port) are remembered.
        std::size_t servers = 1000;

        /// How many tickets are kept per server.
        std::size_t tickets_per_server = 4;
    };

    /// Makes client connections of `context` hand the sessions their servers
    /// send to a cache. Sets the client session cache mode of the context
    /// (OpenSSL's own store off) and its new-session callback, replacing any
    /// other. Streams made from the context afterwards store their tickets in
    /// the cache given to `resume`; several caches may share one context.
    explicit session_cache(boost::asio::ssl::context& context);

    /// As above, with other bounds (each at least 1).
    session_cache(boost::asio::ssl::context& context, limits bounds);

    /// Sets the new-session callback on a context. The constructor calls it.
    static void install(SSL_CTX* context);

    session_cache(const session_cache&) = delete;
    session_cache& operator=(const session_cache&) = delete;
    ~session_cache();

    /// Prepares a client connection to `host`:`port`, before its handshake:
    /// the newest valid ticket for that server, if any, is set on it
    /// (`SSL_set_session`), and the tickets this connection receives are
    /// stored under that key.
    ///
    /// `host` should be the name sent as server name indication: a ticket
    /// carries early data only to the name it was issued for.
    ///
    /// @returns true when a ticket was set.
    template <typename NextLayer>
    bool resume(boost::asio::ssl::stream<NextLayer>& stream, std::string_view host, std::uint16_t port)
    {
        return resume(stream.native_handle(), host, port);
    }

    /// As above, on an OpenSSL connection object.
    bool resume(SSL* ssl, std::string_view host, std::uint16_t port);

    /// Adds a copy of `session` for `host`:`port` (the context's callback does
    /// this for every ticket received). Sessions that cannot be resumed are
    /// ignored.
    void insert(std::string_view host, std::uint16_t port, SSL_SESSION* session);

    /// How many valid tickets are held for `host`:`port`.
    std::size_t count(std::string_view host, std::uint16_t port) const;

    /// How many valid tickets are held in all.
    std::size_t size() const;

    /// Forgets every ticket.
    void clear();

private:
    std::shared_ptr<detail::session_store> state_;
};

} // namespace tfo::ssl

#endif
