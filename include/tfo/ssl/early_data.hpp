//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_SSL_EARLY_DATA_HPP
#define TFO_SSL_EARLY_DATA_HPP

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tfo::ssl {

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

/// The caller's statement about a request: may it be processed twice?
///
/// Early data can be replayed: an attacker who records the first flight can
/// send it again, and the server may process the request once per copy
/// (RFC 8446, section 8). Only requests whose repetition does no harm, such
/// as an HTTP GET without side effects, may be sent early.
enum class replay_safety : std::uint8_t
{
    /// The request must be processed at most once: never sent as early data.
    not_safe = 0,

    /// Processing the request twice does no harm: it may be sent as early data.
    safe = 1
};

/// What became of the request's chance to travel as early data.
enum class early_data_status : std::uint8_t
{
    /// The request went as early data, with the ClientHello, and the server
    /// accepted it: the server may answer before the handshake completes.
    accepted = 1,

    /// The request went as early data but the server refused it (for example
    /// it forgot the ticket, or saw it once already); it was sent again after
    /// the handshake, and the server processes that copy only.
    rejected_and_resent = 2,

    /// The request was sent after the handshake; `early_data_outcome::reason` says why.
    not_attempted = 3
};

/// Why the request was not sent as early data.
enum class not_attempted_reason : std::uint8_t
{
    /// Early data was attempted.
    none = 0,

    /// The caller said the request is not safe to replay (`replay_safety::not_safe`).
    not_replay_safe = 1,

    /// No ticket for the server: a full handshake.
    no_ticket = 2,

    /// The ticket does not allow early data on this connection: the server's
    /// `max_early_data` was 0 when it issued the ticket, or the ticket was
    /// issued for another server name, or the ALPN protocol it was issued
    /// with is not among those this connection offers (RFC 8446, section
    /// 4.2.10). The ticket still resumes the session.
    not_allowed = 3,

    /// The request is larger than the ticket's `max_early_data`.
    too_big = 4,

    /// The request is empty: there is nothing to send early.
    empty_request = 5
};

/// A short English description, such as "accepted" or "no ticket".
std::string_view to_string(early_data_status s) noexcept;

/// A short English description, such as "accepted" or "no ticket".
std::string_view to_string(not_attempted_reason r) noexcept;

/// What `async_handshake_and_write` did with the request.
struct early_data_outcome
{
    /// Whether the request went early, and whether the server took it.
    early_data_status status = early_data_status::not_attempted;

    /// When `status` is `not_attempted`, why; otherwise `none`.
    not_attempted_reason reason = not_attempted_reason::none;

    /// The handshake resumed a session (`SSL_session_reused`).
    bool resumed = false;

    /// Size of the first flight, the ClientHello plus the early data, when
    /// early data was attempted; 0 otherwise.
    std::size_t first_flight_size = 0;

    /// The most data a SYN carries on a path with a 1500-byte MTU: 1420
    /// bytes over IPv4, 1400 over IPv6 (MTU minus the IP and TCP headers and
    /// the 40 bytes of option space Linux reserves in a SYN with data).
    /// Loopback and jumbo frames allow more, but this is the size of the
    /// Internet's common path, where the saving matters.
    std::size_t syn_data_limit = 0;

    /// The first flight fits in `syn_data_limit`. When it does not, the
    /// kernel puts what fits in the SYN and sends the rest after the
    /// handshake: the request still goes early but its tail arrives a round
    /// trip later.
    bool first_flight_fits_syn() const noexcept { return first_flight_size <= syn_data_limit; }
};

/// The most data a SYN carries on a 1500-byte-MTU path, IPv4 and IPv6; see
/// `early_data_outcome::syn_data_limit`.
inline constexpr std::size_t syn_data_limit_v4 = 1500 - 20 - 20 - 40;
inline constexpr std::size_t syn_data_limit_v6 = 1500 - 40 - 20 - 40;

/// Performs a client TLS handshake and writes a request, sending the request
/// as TLS 1.3 early data with the ClientHello when it can.
///
/// On a repeat connection the stream should hold a ticket (see
/// `session_cache::resume`). When the ticket allows early data and the
/// caller said the request is safe to replay, the ClientHello and the
/// request, encrypted as early data, are produced together and written to
/// the next layer in one write, before the handshake. When the next layer is
/// a stream whose first write is a fast-open connect, that first flight
/// rides in the SYN: the server can answer with its handshake flight, one
/// round trip after the SYN.
///
/// If the server refuses the early data, the request is written again after
/// the handshake. In every case, on success the handshake is complete and
/// the server has been sent the request exactly once in a form it will
/// process (a refused early copy is discarded by the server).
///
/// @param stream A client stream on which no handshake was done. Its next
/// layer must not have been written to yet when early data is to be sent.
///
/// @param request The request. The sequence object is copied; the memory it
/// refers to must stay valid until completion.
///
/// @param safety Whether the request may be processed twice. Early data is
/// only sent for `replay_safety::safe`.
///
/// @param token The completion token. The completion signature is
/// @code
/// void(boost::system::error_code ec, tfo::ssl::early_data_outcome outcome)
/// @endcode
///
/// @par Per-Operation Cancellation
/// This operation supports the cancellation types of its intermediate
/// operations (`async_write` on the next layer, `async_handshake`,
/// `async_write` on the stream), which for a TCP socket is `terminal`.
///
/// @par Example
/// @code
/// cache.resume(stream, host, 443);
/// auto [ec, outcome] = co_await tfo::ssl::async_handshake_and_write(
///     stream, boost::asio::buffer(request), tfo::ssl::replay_safety::safe,
///     boost::asio::as_tuple(boost::asio::use_awaitable));
/// @endcode
template <typename NextLayer, typename ConstBufferSequence,
          typename CompletionToken =
              boost::asio::default_completion_token_t<typename boost::asio::ssl::stream<NextLayer>::executor_type>>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_handshake_and_write(
    boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request, replay_safety safety,
    CompletionToken&& token =
        boost::asio::default_completion_token_t<typename boost::asio::ssl::stream<NextLayer>::executor_type>());

/// Performs a client TLS handshake and writes a request, as
/// `async_handshake_and_write`; blocks until done.
/// @returns What became of the request's early data.
/// @throws boost::system::system_error on failure.
template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
early_data_outcome handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                                       replay_safety safety);

/// As above; errors in `ec` (the outcome is then default-constructed).
template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
early_data_outcome handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                                       replay_safety safety, boost::system::error_code& ec);

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/// Lets servers made from `context` accept up to `max_early_data` bytes of
/// early data per connection (`SSL_CTX_set_max_early_data`). The tickets the
/// server issues announce the limit; clients use it on their next connection.
///
/// OpenSSL's anti-replay protection stays on: each ticket is accepted for
/// early data once, through the context's server session cache, which must
/// stay enabled (it is by default). A replayed first flight, or a second use
/// of a ticket, has its early data refused and falls back to a full
/// handshake.
///
/// `max_early_data` 0 turns early data off: tickets announce none, and early
/// data that clients still send (with a ticket issued before) is refused and
/// skipped; the client sends the request again after the handshake, and it
/// is processed once. Skipping needs a second limit, what the server reads
/// off the wire before it aborts the handshake
/// (`SSL_CTX_set_recv_max_early_data`), which must stay at least as large
/// as anything a ticket still in use announced. It is the larger of
/// `max_early_data` and `receive_limit` (default 16384, OpenSSL's own). To
/// turn early data off or lower it without losing requests, keep
/// `receive_limit` at the largest limit the server, or any server sharing
/// its ticket keys, announced within a ticket lifetime (7200 s by default).
void enable_early_data(boost::asio::ssl::context& context, std::uint32_t max_early_data,
                       std::uint32_t receive_limit = 16384);

/// Starts a server TLS handshake and reads early data the client sent with
/// its ClientHello, before the handshake completes.
///
/// Call it as the first operation on a server stream, then again until it
/// completes with 0 bytes; then finish with `stream.async_handshake(server)`
/// as usual. Everything it delivers is early data: the client's identity is
/// not yet confirmed and the data may be a replay. Act on it only when the
/// request is safe to repeat; otherwise answer "425 Too Early" (RFC 8470) or
/// keep the request until the handshake completes.
///
/// An answer can be written before the handshake completes with
/// `async_write_early_data`. The server's handshake flight produced while
/// reading is held until that write, or until this operation must wait for
/// the client, so that the flight and the answer leave together.
///
/// @param stream A server stream on which no handshake was done, or on which
/// this operation has not yet returned 0.
///
/// @param buffers Where to put the data; must not be empty. Like
/// `async_read_some`, the operation reads at most one record's worth.
///
/// @param token The completion token. The completion signature is
/// @code
/// void(boost::system::error_code ec, std::size_t bytes_transferred)
/// @endcode
/// `bytes_transferred` is 0 when there is no more early data: the client
/// sent none, the server refused it (no valid ticket, a replay, too much of
/// it), or all of it has been read. Then `stream.async_handshake` completes
/// the handshake.
///
/// @par Per-Operation Cancellation
/// As for the intermediate `async_read`/`async_write` on the next layer; for
/// a TCP socket, `terminal`.
template <typename NextLayer, typename MutableBufferSequence,
          typename CompletionToken =
              boost::asio::default_completion_token_t<typename boost::asio::ssl::stream<NextLayer>::executor_type>>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
auto async_read_early_data(
    boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers,
    CompletionToken&& token =
        boost::asio::default_completion_token_t<typename boost::asio::ssl::stream<NextLayer>::executor_type>());

/// Reads early data as `async_read_early_data`; blocks until done.
/// @returns The number of bytes read; 0 when there is no more early data.
/// @throws boost::system::system_error on failure.
template <typename NextLayer, typename MutableBufferSequence>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
std::size_t read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers);

/// As above; errors in `ec`.
template <typename NextLayer, typename MutableBufferSequence>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
std::size_t read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers,
                            boost::system::error_code& ec);

/// Writes data to the client before the handshake completes (TLS 1.3
/// "0.5-RTT data"): the answer to an early request leaves with the server's
/// handshake flight, one round trip after the client's SYN.
///
/// Only after `async_read_early_data` delivered data. The client cannot yet
/// have proved its identity (the handshake is incomplete): answer only what
/// any client may see.
///
/// @param token The completion token. The completion signature is
/// @code
/// void(boost::system::error_code ec, std::size_t bytes_transferred)
/// @endcode
/// On success every byte was written.
///
/// @par Per-Operation Cancellation
/// As for the intermediate `async_write` on the next layer.
template <typename NextLayer, typename ConstBufferSequence,
          typename CompletionToken =
              boost::asio::default_completion_token_t<typename boost::asio::ssl::stream<NextLayer>::executor_type>>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_write_early_data(
    boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers,
    CompletionToken&& token =
        boost::asio::default_completion_token_t<typename boost::asio::ssl::stream<NextLayer>::executor_type>());

/// Writes 0.5-RTT data as `async_write_early_data`; blocks until done.
/// @returns The number of bytes written: all of them.
/// @throws boost::system::system_error on failure.
template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers);

/// As above; errors in `ec`.
template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers,
                             boost::system::error_code& ec);

/// Whether the server accepted the client's early data on this connection
/// (`SSL_get_early_data_status` is `SSL_EARLY_DATA_ACCEPTED`); on a client,
/// whether the server accepted ours. Meaningful once the handshake has begun.
template <typename NextLayer>
bool early_data_accepted(boost::asio::ssl::stream<NextLayer>& stream);

} // namespace tfo::ssl

#include <tfo/ssl/impl/early_data.hpp>

#endif
