//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Built by scripts/test.sh against the installed package with nothing but
// `g++ -std=c++20 pkgconfig_consumer.cpp $(pkg-config --cflags --libs tfo)`:
// it calls compiled parts of libtfo (the connect, the error category, /proc
// reading), so a wrong Libs line fails to link.
#include <tfo/tfo.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <iostream>
#include <string>

int main()
{
    namespace asio = boost::asio;
    using asio::ip::tcp;
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    boost::system::error_code ec;
    acceptor.set_option(tfo::fast_open{16}, ec); // refused where the kernel lacks it: fine here

    const std::string request = "pkg-config consumer";
    std::string received(request.size(), '\0');
    tcp::socket client(io), server(io);
    acceptor.async_accept(server, [&](boost::system::error_code accept_error) {
        if (!accept_error)
            asio::async_read(server, asio::buffer(received), [](boost::system::error_code, std::size_t) {});
    });
    std::size_t written = 0;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                [&](boost::system::error_code connect_error, std::size_t n) {
                                    ec = connect_error;
                                    written = n;
                                });
    io.run();

    boost::system::error_code counters_error;
    tfo::kernel_counters(counters_error);
    std::cout << "pkg-config consumer: " << written << " bytes, server got \"" << received << "\", counters: "
              << (counters_error ? counters_error.message() : std::string("readable")) << ", "
              << tfo::make_error_code(tfo::error::not_supported).category().name() << '\n';
    return !ec && written == request.size() && received == request ? 0 : 1;
}
