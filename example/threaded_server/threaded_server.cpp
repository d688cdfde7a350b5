//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// threaded_server: a multi-threaded echo server, one listener per thread.
//
// Every thread runs its own io_context and its own acceptor on the same port,
// which SO_REUSEPORT allows; the kernel spreads new connections across them,
// so no lock or shared queue sits on the accept path. Two TFO lines, marked
// below, go on every listener:
//  - `tfo::fast_open`, as on any fast-open listener;
//  - one `tfo::fast_open_key` shared by all of them. A client keeps the
//    cookie one listener gave it, and its next SYN may land on another
//    listener, which must accept that cookie. (Without an explicit key all
//    listeners use the network namespace's key; setting one shows what a
//    group of servers behind one address needs.)
//
// Usage: threaded_server <port> [--threads N] [--max-connections N]
//
// It listens on 127.0.0.1 and stops on SIGINT or SIGTERM, or after
// --max-connections connections, letting open sessions finish.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <syncstream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// SO_REUSEPORT, which Asio does not wrap (`reuse_address` is SO_REUSEADDR).
// A SettableSocketOption needs only these four members.
struct reuse_port
{
    int value = 1;
    template <typename Protocol> int level(const Protocol&) const { return SOL_SOCKET; }
    template <typename Protocol> int name(const Protocol&) const { return SO_REUSEPORT; }
    template <typename Protocol> const int* data(const Protocol&) const { return &value; }
    template <typename Protocol> std::size_t size(const Protocol&) const { return sizeof(value); }
};

struct listener
{
    asio::io_context io;
    tcp::acceptor acceptor{io};
};

class server
{
public:
    server(unsigned short port, int threads, long max_connections) : max_connections_(max_connections)
    {
        const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
        const tfo::fast_open_key key = random_key();
        for (int i = 0; i < threads; ++i)
        {
            auto& l = *listeners_.emplace_back(std::make_unique<listener>());
            l.acceptor.open(endpoint.protocol());
            l.acceptor.set_option(reuse_port{});
            l.acceptor.bind(endpoint);
            l.acceptor.listen();
            l.acceptor.set_option(tfo::fast_open{256}); // TFO: accept data in the SYN
            l.acceptor.set_option(key);                 // TFO: the same cookies on every listener
            asio::co_spawn(l.io, accept_loop(l, i), [](std::exception_ptr e) {
                if (e)
                    std::rethrow_exception(e);
            });
        }
        signals_.async_wait([this](boost::system::error_code ec, int) {
            if (!ec)
                stop();
        });
        std::cout << "listening on " << endpoint << " with " << threads << " threads" << std::endl;
    }

    // Runs every listener on its own thread; returns when all are done.
    bool run()
    {
        std::vector<std::jthread> threads;
        for (auto& l : listeners_)
            threads.emplace_back([this, &l] {
                try
                {
                    l->io.run();
                }
                catch (const std::exception& e)
                {
                    std::osyncstream(std::cerr) << "threaded_server: " << e.what() << std::endl;
                    failed_ = true;
                    stop();
                }
            });
        signal_io_.run(); // until a signal arrives or stop() cancels the wait
        threads.clear();  // joins
        return !failed_;
    }

private:
    static tfo::fast_open_key random_key()
    {
        std::random_device random;
        std::array<unsigned char, tfo::fast_open_key::key_size> bytes;
        std::generate(bytes.begin(), bytes.end(), [&] { return static_cast<unsigned char>(random()); });
        return tfo::fast_open_key(bytes);
    }

    asio::awaitable<void> accept_loop(listener& l, int index)
    {
        for (;;)
        {
            auto [ec, socket] = co_await l.acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec == asio::error::operation_aborted)
                co_return; // stop() closed the acceptor
            if (ec)
                throw boost::system::system_error(ec, "accept");

            boost::system::error_code ignored;
            const auto info = tfo::get_fast_open_info(socket, ignored);
            std::osyncstream(std::cout) << "listener " << index << ": connection from "
                                        << socket.remote_endpoint(ignored)
                                        << ": data in SYN: " << (info.syn_data_acked ? "yes" : "no") << std::endl;
            asio::co_spawn(l.io, echo(std::move(socket)), asio::detached);

            if (max_connections_ > 0 && ++accepted_ == max_connections_)
                stop();
        }
    }

    static asio::awaitable<void> echo(tcp::socket socket)
    {
        std::array<char, 4096> data;
        for (;;)
        {
            auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(data), asio::as_tuple(asio::use_awaitable));
            if (read_ec)
                co_return; // end of stream, or the connection failed: it is over either way
            auto [write_ec, ignored] =
                co_await asio::async_write(socket, asio::buffer(data, n), asio::as_tuple(asio::use_awaitable));
            if (write_ec)
                co_return;
        }
    }

    // Closes every acceptor on its own thread; each io_context then runs out
    // of work when its last session ends.
    void stop()
    {
        for (auto& l : listeners_)
            asio::post(l->io, [&acceptor = l->acceptor] {
                boost::system::error_code ignored;
                acceptor.close(ignored);
            });
        asio::post(signal_io_, [this] { signals_.cancel(); });
    }

    std::vector<std::unique_ptr<listener>> listeners_;
    asio::io_context signal_io_; // the main thread waits here for a signal
    asio::signal_set signals_{signal_io_, SIGINT, SIGTERM};
    std::atomic<long> accepted_ = 0;
    const long max_connections_; // 0 means no limit
    std::atomic<bool> failed_ = false;
};

long to_number(std::string_view text, long min, long max)
{
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        throw std::invalid_argument("not a number from " + std::to_string(min) + " to " + std::to_string(max) +
                                    ": " + std::string(text));
    return value;
}

} // namespace

int main(int argc, char* argv[])
{
    if (argc < 2)
    {
        std::cerr << "usage: threaded_server <port> [--threads N] [--max-connections N]\n";
        return 2;
    }
    try
    {
        const auto port = static_cast<unsigned short>(to_number(argv[1], 0, 65535));
        long threads = std::max(2u, std::thread::hardware_concurrency());
        long max_connections = 0;
        for (int i = 2; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            if (arg == "--threads" && i + 1 < argc)
                threads = to_number(argv[++i], 1, 256);
            else if (arg == "--max-connections" && i + 1 < argc)
                max_connections = to_number(argv[++i], 0, 1'000'000);
            else
                throw std::invalid_argument("unknown argument: " + std::string(arg));
        }

        server s(port, static_cast<int>(threads), max_connections);
        return s.run() ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    catch (const std::exception& e)
    {
        std::cerr << "threaded_server: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
