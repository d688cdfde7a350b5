//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// deferred_connect_client: the `tfo::fast_open_deferred_connect` option, the
// kernel's own deferred connect, for code whose socket type you cannot change.
//
// With the option set and a cookie cached, `connect` returns at once without
// sending anything; the SYN leaves with the first write and carries its bytes.
// The client code is otherwise plain Asio. Prefer `tfo::fast_open_stream`
// (see http_client and tls_client) or `tfo::async_fastopen_connect` (see
// coro_client): the option has traps this program has to work around, each
// marked TRAP below.
//
// Usage: deferred_connect_client <host> <port> <message> [--count N]
//
// Each connection sends <message> to an echo server (echo_server,
// threaded_server), reads it back and prints whether it rode in the SYN.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio.hpp>

#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// TRAP: asio::async_connect over resolver results (and Beast's
// tcp_stream::async_connect) closes and reopens the socket for every
// endpoint, silently dropping the option. So the endpoints are tried here:
// open, set the option, member connect.
//
// TRAP: with a cookie cached, this connect "succeeds" before any packet is
// sent, so a refused or unreachable server is only reported by the first
// write or read, and the loop below cannot move on to the next endpoint.
asio::awaitable<void> connect_deferred(tcp::socket& socket, const tcp::resolver::results_type& endpoints)
{
    boost::system::error_code ec = asio::error::host_not_found;
    for (const auto& entry : endpoints)
    {
        socket.open(entry.endpoint().protocol());
        // Fails when the kernel's client side is off: then connect the ordinary way.
        boost::system::error_code unsupported;
        socket.set_option(tfo::fast_open_deferred_connect{true}, unsupported);
        std::tie(ec) = co_await socket.async_connect(entry.endpoint(), asio::as_tuple(asio::use_awaitable));
        if (!ec)
            co_return;
        socket.close();
    }
    throw boost::system::system_error(ec, "connect");
}

asio::awaitable<void> run(std::string host, std::string port, std::string message, int count)
{
    const auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);

    for (int i = 1; i <= count; ++i)
    {
        tcp::socket socket(executor);
        co_await connect_deferred(socket, endpoints);

        // TRAP: the client must write first. A protocol where the server
        // speaks first would wait here forever once a cookie is cached: no
        // SYN has left yet, so the server never accepted the connection.
        co_await asio::async_write(socket, asio::buffer(message), asio::use_awaitable); // the SYN, with the message
        const tfo::fast_open_info info = tfo::get_fast_open_info(socket);

        std::string reply(message.size(), '\0');
        co_await asio::async_read(socket, asio::buffer(reply), asio::use_awaitable);

        std::cout << "connection " << i << ": reply \"" << reply << "\", request in SYN: "
                  << (info.syn_data_acked ? "yes" : "no");
        if (!info.syn_data_acked)
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
        std::cerr << "usage: deferred_connect_client <host> <port> <message> [--count N]\n";
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
        std::cerr << "deferred_connect_client: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
