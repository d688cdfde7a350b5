//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// echo_server: a classic callback-style Asio echo server, with TCP Fast Open.
//
// It differs from a plain Asio echo server by one line, marked "TFO" below:
// the acceptor gets `tfo::fast_open`. A client that holds a cookie for this
// server may then send its first bytes in the SYN, and they are readable as
// soon as the connection is accepted. Each connection is logged with whether
// it opened that way.
//
// Usage: echo_server <port> [--max-connections N] [--no-fast-open]
//
// It listens on 127.0.0.1. With --max-connections it stops accepting after N
// connections and exits once they are done; --no-fast-open leaves TFO off,
// for comparison.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio.hpp>

#include <array>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session>
{
public:
    explicit session(tcp::socket socket) : socket_(std::move(socket)) {}

    void start() { read(); }

private:
    void read()
    {
        socket_.async_read_some(asio::buffer(data_),
                                [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                    if (!ec)
                                        self->write(n);
                                    else if (ec != asio::error::eof)
                                        std::cerr << "read: " << ec.message() << std::endl;
                                });
    }

    void write(std::size_t n)
    {
        asio::async_write(socket_, asio::buffer(data_, n),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              if (!ec)
                                  self->read();
                              else
                                  std::cerr << "write: " << ec.message() << std::endl;
                          });
    }

    tcp::socket socket_;
    std::array<char, 4096> data_;
};

class server
{
public:
    server(asio::io_context& io, unsigned short port, bool fast_open, long max_connections)
        : acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), port)), remaining_(max_connections)
    {
        boost::system::error_code ec;
        if (fast_open)
            acceptor_.set_option(tfo::fast_open{256}, ec); // TFO: up to 256 pending fast-open handshakes
        std::cout << "listening on " << acceptor_.local_endpoint() << (fast_open && !ec ? " with" : " without")
                  << " TCP Fast Open";
        if (ec) // no_protocol_option where the platform lacks it (Windows)
            std::cout << " (" << ec.message() << ')';
        std::cout << std::endl;
        accept();
    }

private:
    void accept()
    {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                throw boost::system::system_error(ec, "accept"); // leaves io_context::run, main reports it
            log(socket);
            std::make_shared<session>(std::move(socket))->start();
            if (remaining_ > 0 && --remaining_ == 0)
            {
                acceptor_.close(); // run() returns once the open sessions end
                return;
            }
            accept();
        });
    }

    static void log(tcp::socket& socket)
    {
        boost::system::error_code ec;
        const auto peer = socket.remote_endpoint(ec);
        const auto info = tfo::get_fast_open_info(socket, ec);
        std::cout << "connection from " << peer << ": data in SYN: " << (info.syn_data_acked ? "yes" : "no")
                  << std::endl;
    }

    tcp::acceptor acceptor_;
    long remaining_; // connections left to accept; 0 means no limit
};

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
        std::cerr << "usage: echo_server <port> [--max-connections N] [--no-fast-open]\n";
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
        server s(io, port, fast_open, max_connections);
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "echo_server: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
