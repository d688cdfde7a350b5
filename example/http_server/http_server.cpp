//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// http_server: a Boost.Beast HTTP/1.1 server with TCP Fast Open.
//
// The server code is ordinary Beast with coroutines; the one TFO line, marked
// below, sets `tfo::fast_open` on the acceptor. A client holding a cookie
// (see http_client) can then send its whole GET in the SYN and the request is
// readable as soon as the connection is accepted. Any other client, with or
// without TFO, is served the ordinary way.
//
// Usage: http_server <port> [--max-connections N] [--no-fast-open]
//
// It listens on 127.0.0.1 and answers GET with a short text body, anything
// else with 405. With --max-connections it exits after serving N
// connections.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

http::response<http::string_body> answer(const http::request<http::string_body>& request)
{
    const bool get = request.method() == http::verb::get;
    http::response<http::string_body> response{get ? http::status::ok : http::status::method_not_allowed,
                                               request.version()};
    response.set(http::field::server, "tfo http_server");
    response.set(http::field::content_type, "text/plain");
    response.keep_alive(request.keep_alive());
    if (get)
        response.body() = "hello from tfo http_server\n";
    else
        response.set(http::field::allow, "GET");
    response.prepare_payload();
    return response;
}

asio::awaitable<void> serve(tcp::socket socket)
{
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    // Read before anything else is received: did the request come with the SYN?
    const bool in_syn = tfo::get_fast_open_info(socket, ec).syn_data_acked;

    beast::flat_buffer buffer;
    for (bool first = true;; first = false)
    {
        http::request<http::string_body> request;
        auto [read_ec, n] = co_await http::async_read(socket, buffer, request, asio::as_tuple(asio::use_awaitable));
        if (read_ec == http::error::end_of_stream)
            break;
        if (read_ec)
            throw boost::system::system_error(read_ec, "read");

        std::cout << request.method_string() << ' ' << request.target() << " from " << peer
                  << ": request in SYN: " << (first && in_syn ? "yes" : "no") << std::endl;
        auto response = answer(request);
        co_await http::async_write(socket, response, asio::use_awaitable);
        if (!response.keep_alive())
            break;
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> listen(tcp::acceptor acceptor, long max_connections)
{
    const auto executor = co_await asio::this_coro::executor;
    for (long served = 0; max_connections == 0 || served < max_connections; ++served)
    {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        // A failed session is logged; the server carries on.
        asio::co_spawn(executor, serve(std::move(socket)), [](std::exception_ptr e) {
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
    if (argc < 2)
    {
        std::cerr << "usage: http_server <port> [--max-connections N] [--no-fast-open]\n";
        return 2;
    }
    try
    {
        const auto port = static_cast<unsigned short>(to_number(argv[1], 65535));
        long max_connections = 0;
        bool fast_open = true;
        for (int i = 2; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            if (arg == "--max-connections" && i + 1 < argc)
                max_connections = to_number(argv[++i], 1'000'000);
            else if (arg == "--no-fast-open")
                fast_open = false;
            else
                throw std::invalid_argument("unknown argument: " + std::string(arg));
        }

        asio::io_context io;
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), port));
        boost::system::error_code ec;
        if (fast_open)
            acceptor.set_option(tfo::fast_open{256}, ec); // TFO: up to 256 pending fast-open handshakes
        std::cout << "listening on " << acceptor.local_endpoint() << (fast_open && !ec ? " with" : " without")
                  << " TCP Fast Open";
        if (ec) // no_protocol_option where the platform lacks it (Windows)
            std::cout << " (" << ec.message() << ')';
        std::cout << std::endl;

        asio::co_spawn(io, listen(std::move(acceptor), max_connections), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // out of io.run(), into the catch below
        });
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "http_server: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
