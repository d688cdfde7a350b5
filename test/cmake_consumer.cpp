//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Built by test/cmake_install and test/cmake_subdir: sets the drop-in server
// option on an acceptor, as a user's program would.
#include <tfo/tfo.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <iostream>

int main()
{
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::address_v4::loopback(), 0});
    acceptor.set_option(tfo::fast_open{16});
    tfo::fast_open queue;
    acceptor.get_option(queue);
    std::cout << "consumer: tfo::fast_open set, queue " << queue.value() << '\n';
    return queue.value() == 16 ? 0 : 1;
}
