//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// multipath_client: a coroutine client on Multipath TCP whose request rides
// in the SYN.
//
// One line is added to a `tfo::async_fastopen_connect` client, marked
// "MPTCP": the socket is opened with `tfo::open_multipath`. The connect then
// asks the server for Multipath TCP in the same SYN that carries the request
// (once a first connection has fetched a Fast Open cookie), and keeps the
// choice when it moves on to another of the resolved endpoints. Against a
// server that speaks TCP only the kernel falls back by itself, and the client
// says so; where Multipath TCP cannot be had at all, `open_multipath` says
// why and the socket is TCP.
//
// Usage: multipath_client <host> <port> <message> [--count N]
//
// Each connection sends <message>, reads it back (multipath_server, or any
// echo server, answers) and prints what the kernel says of the connection.
//

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/multipath.hpp>

#include <boost/asio.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string describe(const tfo::multipath_open_result& opened, tcp::socket& socket)
{
    if (!opened)
        return "no (" + opened.fallback.message() + ")";
    const tfo::multipath_info info = tfo::get_multipath_info(socket);
    if (info.fell_back())
        return "no (the server speaks TCP only)";
    return "yes, " + std::to_string(info.subflows) + " subflow(s)";
}

asio::awaitable<void> run(std::string host, std::string port, std::string message, int count)
{
    const auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);

    for (int i = 1; i <= count; ++i)
    {
        tcp::socket socket(executor);
        const auto opened = tfo::open_multipath(socket, endpoints.begin()->endpoint().protocol()); // MPTCP
        const auto [peer, sent] = co_await tfo::async_fastopen_connect(socket, endpoints, asio::buffer(message),
                                                                       asio::use_awaitable);
        const tfo::fast_open_info fast_open = tfo::get_fast_open_info(socket);

        std::string reply(message.size(), '\0');
        co_await asio::async_read(socket, asio::buffer(reply), asio::use_awaitable);
        std::cout << "connection " << i << " to " << peer << ": reply \"" << reply << "\", Multipath TCP: "
                  << describe(opened, socket) << ", request in SYN: " << (fast_open.syn_data_acked ? "yes" : "no")
                  << std::endl;
        if (reply != message)
            throw std::runtime_error("the reply differs from the message");
    }
}

} // namespace

int main(int argc, char* argv[])
{
    if (argc != 4 && !(argc == 6 && std::string(argv[4]) == "--count"))
    {
        std::cerr << "usage: multipath_client <host> <port> <message> [--count N]\n";
        return 2;
    }
    try
    {
        asio::io_context io;
        std::exception_ptr failure;
        asio::co_spawn(io, run(argv[1], argv[2], argv[3], argc == 6 ? std::stoi(argv[5]) : 1),
                       [&](std::exception_ptr e) { failure = e; });
        io.run();
        if (failure)
            std::rethrow_exception(failure);
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "multipath_client: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
