//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A throw-away TLS identity for the TLS tests: a self-signed P-256
// certificate for "localhost" and 127.0.0.1, made in memory.
//

#ifndef TFO_TEST_SUPPORT_TLS_IDENTITY_HPP
#define TFO_TEST_SUPPORT_TLS_IDENTITY_HPP

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace tfo::test {

struct tls_identity
{
    std::string certificate_pem; // also the trust anchor: it signs itself
    std::string private_key_pem;

    /// Writes cert.pem and key.pem into `directory` (for nginx and openssl).
    void write_to(const std::filesystem::path& directory) const;
};

/// Makes a fresh identity; throws std::runtime_error if OpenSSL fails.
tls_identity make_tls_identity();

/// A TLS 1.3 server context with `id`, accepting up to `max_early_data`
/// bytes of early data (0: none).
boost::asio::ssl::context make_server_context(const tls_identity& id, std::uint32_t max_early_data);

/// A TLS 1.3 client context that trusts `id` and verifies the peer.
boost::asio::ssl::context make_client_context(const tls_identity& id);

} // namespace tfo::test

#endif
