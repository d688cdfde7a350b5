//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// multipath_server: a coroutine echo server on Multipath TCP, with TCP Fast
// Open.
//
// Against an Asio echo server, one line changes and one is added, marked
// "MPTCP" and "TFO" below: the acceptor is opened with `tfo::open_multipath`
// instead of `open`, and gets `tfo::fast_open`. Multipath TCP clients then
// get connections that can add paths (subflows) and outlive the loss of one,
// and a repeat client's first bytes ride in the SYN; TCP clients are served
// as before. Where Multipath TCP cannot be had (net.mptcp.enabled=0, an old
// kernel, another platform), the server says why and listens on TCP.
//
// Usage: multipath_server <port> [--max-connections N]
//
// It listens on 127.0.0.1 and logs, for each connection, whether it speaks
// Multipath TCP and whether it opened with data in the SYN.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/multipath.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio.hpp>

#include <array>
#include <cstdlib>
#include <iostream>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> echo(tcp::socket socket)
{
    std::array<char, 4096> data;
    for (;;)
    {
        const auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return; // eof: the client is done
        co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
    }
}

std::string describe(tcp::socket& socket)
{
    boost::system::error_code ec;
    const tfo::multipath_info path = tfo::get_multipath_info(socket, ec);
    const tfo::fast_open_info fast_open = tfo::get_fast_open_info(socket, ec);
    std::string text = "Multipath TCP: ";
    text += path.active ? "yes, " + std::to_string(path.subflows) + " subflow(s)" : "no (a TCP client)";
    text += std::string(", data in SYN: ") + (fast_open.syn_data_acked ? "yes" : "no");
    return text;
}

asio::awaitable<void> serve(tcp::acceptor& acceptor, long max_connections)
{
    for (long served = 0; max_connections == 0 || served < max_connections; ++served)
    {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        std::cout << "connection from " << socket.remote_endpoint() << ": " << describe(socket) << std::endl;
        asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
    }
    acceptor.close(); // run() returns once the open connections end
}

} // namespace

int main(int argc, char* argv[])
{
    if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--max-connections"))
    {
        std::cerr << "usage: multipath_server <port> [--max-connections N]\n";
        return 2;
    }
    try
    {
        asio::io_context io;
        tcp::acceptor acceptor(io);
        const auto opened = tfo::open_multipath(acceptor, tcp::v4()); // MPTCP: was acceptor.open(tcp::v4())
        acceptor.set_option(tfo::fast_open{256});                     // TFO
        acceptor.bind({asio::ip::address_v4::loopback(), static_cast<unsigned short>(std::stoi(argv[1]))});
        acceptor.listen();
        std::cout << "listening on " << acceptor.local_endpoint() << " with TCP Fast Open, "
                  << (opened ? "on Multipath TCP" : "on TCP: " + opened.fallback.message()) << std::endl;
        asio::co_spawn(io, serve(acceptor, argc == 4 ? std::stol(argv[3]) : 0), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "multipath_server: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
