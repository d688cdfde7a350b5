//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tls_client: a TLS 1.3 client (asio::ssl) whose ClientHello rides in the SYN.
//
// The TLS code is unchanged: the `ssl::stream` runs over a
// `tfo::fast_open_stream` (the one TFO line, marked below) given the
// resolver's results. That stream connects at its first write, which is the
// ClientHello written by `async_handshake`, and puts it in the SYN when the
// kernel holds a cookie for the server. With no cookie, or against a server
// without TFO, the connect is an ordinary one. A timeout set on the stream
// covers connect and handshake.
//
// Usage: tls_client <host> <port> <ca-certificate.pem> <message> [--count N]
//
// The server's certificate must be signed by <ca-certificate.pem> (for the
// self-signed one of tls_server's usage, the certificate itself) and name
// <host>. Each of the N connections (default 1) sends <message>, reads the
// server's one-line answer and prints whether the ClientHello was in the SYN.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/fast_open_stream.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <charconv>
#include <cstdlib>
#include <chrono>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

asio::awaitable<void> run(std::string host, std::string port, ssl::context& context, std::string message, int count)
{
    const auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
    boost::system::error_code not_an_address;
    asio::ip::make_address(host, not_an_address);

    for (int i = 1; i <= count; ++i)
    {
        // TFO: connects at the handshake's first write, the ClientHello in the SYN.
        ssl::stream<tfo::fast_open_stream> stream(tfo::fast_open_stream(executor, endpoints), context);
        stream.next_layer().expires_after(std::chrono::seconds(10));
        stream.set_verify_callback(ssl::host_name_verification(host));
        if (not_an_address) // server name indication takes host names only (RFC 6066, section 3)
            SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());

        co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
        const tfo::fast_open_info info = tfo::get_fast_open_info(stream);

        const std::string request = message + '\n';
        co_await asio::async_write(stream, asio::buffer(request), asio::use_awaitable);
        std::string reply;
        co_await asio::async_read_until(stream, asio::dynamic_buffer(reply, 4096), '\n', asio::use_awaitable);
        reply.resize(reply.find('\n'));

        std::cout << "connection " << i << ": " << SSL_get_version(stream.native_handle()) << ", reply \"" << reply
                  << "\", ClientHello in SYN: " << (info.syn_data_acked ? "yes" : "no");
        if (!info.syn_data_acked)
            std::cout << " (" << tfo::to_string(info.failure) << ')';
        std::cout << std::endl;
        if (reply != "echo: " + message)
            throw std::runtime_error("unexpected reply");

        // The server closes right after its answer, perhaps before our close_notify arrives.
        auto [ec] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
        if (ec && ec != asio::error::eof && ec != ssl::error::stream_truncated)
            throw boost::system::system_error(ec, "shutdown");
    }
}

int to_count(std::string_view text)
{
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1)
        throw std::invalid_argument("not a positive count: " + std::string(text));
    return value;
}

} // namespace

int main(int argc, char* argv[])
{
    if (argc < 5)
    {
        std::cerr << "usage: tls_client <host> <port> <ca-certificate.pem> <message> [--count N]\n";
        return 2;
    }
    try
    {
        int count = 1;
        for (int i = 5; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            if (arg == "--count" && i + 1 < argc)
                count = to_count(argv[++i]);
            else
                throw std::invalid_argument("unknown argument: " + std::string(arg));
        }

        ssl::context context(ssl::context::tls_client);
        SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
        context.load_verify_file(argv[3]);
        context.set_verify_mode(ssl::verify_peer);

        asio::io_context io;
        asio::co_spawn(io, run(argv[1], argv[2], context, argv[4], count), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // out of io.run(), into the catch below
        });
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "tls_client: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
