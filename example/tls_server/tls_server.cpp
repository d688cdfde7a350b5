//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tls_server: a TLS 1.3 server (asio::ssl) whose clients' ClientHello can
// arrive in the SYN, and with it their request, as early data.
//
// TLS over TCP Fast Open needs nothing from the TLS layer: the one TFO line,
// marked below, sets `tfo::fast_open` on the acceptor, and a client that
// holds a cookie (see tls_client) puts its ClientHello in the SYN. The server
// reads it as soon as it accepts and answers at once, so the TLS handshake
// ends a round trip sooner.
//
// TLS 1.3 early data (tfo/ssl/early_data.hpp, lines marked EARLY) saves one
// more: a client resuming a session sends its request with the ClientHello,
// in the SYN, and the server answers before the handshake completes. Early
// data can be replayed by an attacker, so only requests that are safe to
// repeat are answered early. Here a line starting with "GET " is safe; any
// other line that arrives early is answered "425 too early" (as HTTP's
// status 425, RFC 8470) and the client must send it again once the
// handshake is done.
//
// Usage: tls_server <port> <certificate.pem> <private-key.pem>
//                   [--max-connections N] [--no-fast-open] [--no-early-data]
//
// It listens on 127.0.0.1. For each connection: read the early line if any,
// TLS handshake, read one line unless an early one was answered, answer
// "echo: <line>", close the TLS session. Each connection reports whether its
// ClientHello came in the SYN and whether its line came early. With
// --max-connections it exits after serving N connections. A throw-away
// certificate for a test
// (run_in_netns.sh makes one the same way):
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
//           -days 1 -subj /CN=localhost -keyout key.pem -out cert.pem
//           -addext subjectAltName=DNS:localhost,IP:127.0.0.1
//

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/ssl/early_data.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <array>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

// Safe to repeat: answering it twice does no harm.
bool replay_safe(std::string_view line)
{
    return line.starts_with("GET ");
}

asio::awaitable<void> serve(ssl::stream<tcp::socket> stream)
{
    boost::system::error_code ec;
    const auto peer = stream.lowest_layer().remote_endpoint(ec);
    // Read before the handshake: did the ClientHello come with the SYN?
    const bool in_syn = tfo::get_fast_open_info(stream.lowest_layer(), ec).syn_data_acked;

    // EARLY: read what came with the ClientHello, before the handshake completes.
    std::string early;
    std::string line;
    std::string verdict = "no early data";
    std::array<char, 4096> buffer;
    for (;;)
    {
        const std::size_t n =
            co_await tfo::ssl::async_read_early_data(stream, asio::buffer(buffer), asio::use_awaitable);
        if (n == 0)
            break; // no (more) early data
        early.append(buffer.data(), n);
        const auto end = early.find('\n');
        if (line.empty() && verdict == "no early data" && end != std::string::npos)
        {
            const std::string first = early.substr(0, end);
            // EARLY: answer now, with the handshake flight, when it is safe to; else 425.
            const std::string reply = replay_safe(first) ? "echo: " + first + '\n' : "425 too early\n";
            co_await tfo::ssl::async_write_early_data(stream, asio::buffer(reply), asio::use_awaitable);
            if (replay_safe(first))
            {
                line = first;
                verdict = "answered early";
            }
            else
                verdict = "refused early (425)";
        }
    }

    co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
    if (line.empty())
    {
        // After the handshake: the request, or the client's retry after a 425.
        std::string data;
        co_await asio::async_read_until(stream, asio::dynamic_buffer(data, 4096), '\n', asio::use_awaitable);
        line = data.substr(0, data.find('\n'));
        const std::string reply = "echo: " + line + '\n';
        co_await asio::async_write(stream, asio::buffer(reply), asio::use_awaitable);
    }
    std::cout << "connection from " << peer << ": ClientHello in SYN: " << (in_syn ? "yes" : "no") << ", got \""
              << line << "\", early data: " << verdict << std::endl;

    // Sends close_notify and waits for the client's. A client that closes the
    // TCP connection without one is common and harmless here: the reply is out.
    auto [shutdown_ec] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    if (shutdown_ec && shutdown_ec != asio::error::eof && shutdown_ec != ssl::error::stream_truncated)
        throw boost::system::system_error(shutdown_ec, "shutdown");
}

asio::awaitable<void> listen(tcp::acceptor acceptor, ssl::context& context, long max_connections)
{
    const auto executor = co_await asio::this_coro::executor;
    for (long served = 0; max_connections == 0 || served < max_connections; ++served)
    {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        // A failed session is logged; the server carries on.
        asio::co_spawn(executor, serve(ssl::stream<tcp::socket>(std::move(socket), context)),
                       [](std::exception_ptr e) {
                           try
                           {
                               if (e)
                                   std::rethrow_exception(e);
                           }
                           catch (const std::exception& x)
                           {
                               std::cerr << "session: " << x.what() << std::endl;
                           }
                       });
    }
}

long to_number(std::string_view text, long max)
{
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max)
        throw std::invalid_argument("not a number from 0 to " + std::to_string(max) + ": " + std::string(text));
    return value;
}

} // namespace

int main(int argc, char* argv[])
{
    if (argc < 4)
    {
        std::cerr << "usage: tls_server <port> <certificate.pem> <private-key.pem> [--max-connections N] "
                     "[--no-fast-open] [--no-early-data]\n";
        return 2;
    }
    try
    {
        const auto port = static_cast<unsigned short>(to_number(argv[1], 65535));
        long max_connections = 0;
        bool fast_open = true;
        bool early_data = true;
        for (int i = 4; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            if (arg == "--max-connections" && i + 1 < argc)
                max_connections = to_number(argv[++i], 1'000'000);
            else if (arg == "--no-fast-open")
                fast_open = false;
            else if (arg == "--no-early-data")
                early_data = false;
            else
                throw std::invalid_argument("unknown argument: " + std::string(arg));
        }

        ssl::context context(ssl::context::tls_server);
        // TLS 1.3 takes one round trip; with the ClientHello in the SYN, TCP adds none.
        SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
        context.use_certificate_chain_file(argv[2]);
        context.use_private_key_file(argv[3], ssl::context::pem);
        // EARLY: tickets allow up to 16 KiB of early data; OpenSSL accepts each ticket's once.
        tfo::ssl::enable_early_data(context, early_data ? 16384 : 0);

        asio::io_context io;
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), port));
        if (fast_open)
            acceptor.set_option(tfo::fast_open{256}); // TFO: up to 256 pending fast-open handshakes
        std::cout << "listening on " << acceptor.local_endpoint() << (fast_open ? " with" : " without")
                  << " TCP Fast Open" << std::endl;

        asio::co_spawn(io, listen(std::move(acceptor), context, max_connections), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // out of io.run(), into the catch below
        });
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "tls_server: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
