//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// coro_client: a C++20 coroutine client whose request rides in the SYN.
//
// `tfo::async_fastopen_connect` stands in for `asio::async_connect` followed
// by `asio::async_write`: one operation connects and sends the request, and
// when the kernel holds a Fast Open cookie for the server the request leaves
// with the SYN, saving a round trip. The first connection to a server has no
// cookie yet, so its SYN only asks for one: run with --count 3 to see the
// first connection fall back and the later ones carry their data.
//
// Usage: coro_client <host> <port> <message> [--count N]
//
// Each connection sends <message>, reads it back (an echo server answers,
// see echo_server and threaded_server) and prints whether the message was in
// the SYN, and the kernel's reason when it was not.
//

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/fast_open_info.hpp>

#include <boost/asio.hpp>

#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> run(std::string host, std::string port, std::string message, int count)
{
    const auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);

    for (int i = 1; i <= count; ++i)
    {
        tcp::socket socket(executor);

        // TFO: connect and send the message, in the SYN when a cookie allows.
        const auto [peer, sent] = co_await tfo::async_fastopen_connect(socket, endpoints, asio::buffer(message),
                                                                       asio::use_awaitable);
        boost::system::error_code info_error; // not_supported where tfo has no Fast Open (Windows)
        const tfo::fast_open_info info = tfo::get_fast_open_info(socket, info_error);

        std::string reply(message.size(), '\0');
        co_await asio::async_read(socket, asio::buffer(reply), asio::use_awaitable);

        std::cout << "connection " << i << " to " << peer << ": reply \"" << reply << "\", request in SYN: "
                  << (info.syn_data_acked ? "yes" : "no");
        if (info_error)
            std::cout << " (" << info_error.message() << ')';
        else if (!info.syn_data_acked)
            std::cout << " (" << tfo::to_string(info.failure) << ')';
        std::cout << std::endl;
        if (reply != message)
            throw std::runtime_error("the reply differs from the message");
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
    if (argc < 4)
    {
        std::cerr << "usage: coro_client <host> <port> <message> [--count N]\n";
        return 2;
    }
    try
    {
        int count = 1;
        for (int i = 4; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            if (arg == "--count" && i + 1 < argc)
                count = to_count(argv[++i]);
            else
                throw std::invalid_argument("unknown argument: " + std::string(arg));
        }

        asio::io_context io;
        asio::co_spawn(io, run(argv[1], argv[2], argv[3], count), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // out of io.run(), into the catch below
        });
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "coro_client: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
