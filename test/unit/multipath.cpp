//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
#include <tfo/multipath.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/error.hpp>
#include <tfo/fast_open_stream.hpp>

#include "platform.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_multipath)

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Either Multipath TCP, or TCP with the reason: never a silent fallback.
template <typename Socket>
void check_opened(const tfo::multipath_open_result& r, Socket& socket)
{
    BOOST_TEST(socket.is_open());
    BOOST_TEST(r.multipath == static_cast<bool>(r));
    if (r)
        BOOST_TEST(!r.fallback);
    else
        BOOST_TEST((r.fallback == tfo::error::multipath_disabled || r.fallback == tfo::error::multipath_unavailable),
                   r.fallback.message());
}

} // namespace

BOOST_AUTO_TEST_CASE(opens_sockets_acceptors_and_streams)
{
    asio::io_context io;
    tcp::socket socket(io);
    check_opened(tfo::open_multipath(socket, tcp::v4()), socket);
    tcp::acceptor acceptor(io);
    boost::system::error_code ec;
    check_opened(tfo::open_multipath(acceptor, tcp::v6(), ec), acceptor);
    BOOST_TEST(!ec, ec.message());
    tfo::fast_open_stream stream(io.get_executor(), tcp::endpoint(asio::ip::address_v4::loopback(), 9));
    check_opened(tfo::open_multipath(stream, tcp::v4()), stream.lowest_layer());

    // What the socket was opened as is what the kernel says of it.
    const auto r = tfo::open_multipath(socket = tcp::socket(io), tcp::v4());
    const auto info = tfo::get_multipath_info(socket);
    BOOST_TEST(info.opened_multipath == r.multipath);
    BOOST_TEST(info.active == r.multipath); // unconnected: it will try
    BOOST_TEST(!info.fell_back());
    BOOST_TEST(info.subflows == 0u);
}

BOOST_AUTO_TEST_CASE(an_open_socket_stays_as_it_is)
{
    asio::io_context io;
    tcp::socket socket(io, tcp::v4());
    const auto fd = socket.native_handle();
    boost::system::error_code ec;
    const auto r = tfo::open_multipath(socket, tcp::v4(), ec);
    BOOST_TEST((ec == asio::error::already_open));
    BOOST_TEST(!r.multipath);
    BOOST_TEST(socket.native_handle() == fd);
    BOOST_CHECK_THROW(tfo::open_multipath(socket, tcp::v4()), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(a_tcp_socket_is_no_multipath)
{
    asio::io_context io;
    tcp::socket socket(io, tcp::v4());
    const auto info = tfo::get_multipath_info(std::as_const(socket));
    BOOST_TEST(!info.opened_multipath);
    BOOST_TEST(!info.active);
    BOOST_TEST(!info.fell_back());
}

BOOST_AUTO_TEST_CASE(closed_socket)
{
    asio::io_context io;
    tcp::socket socket(io);
    boost::system::error_code ec;
    tfo::get_multipath_info(socket, ec);
    BOOST_TEST((ec == asio::error::bad_descriptor));
    BOOST_CHECK_THROW(tfo::get_multipath_info(socket), boost::system::system_error);
}

// Off Linux the fallback says why, and every socket is TCP.
BOOST_AUTO_TEST_CASE(tcp_where_tfo_has_no_multipath, *tfo::test::without_fast_open())
{
    asio::io_context io;
    tcp::socket socket(io);
    const auto r = tfo::open_multipath(socket, tcp::v4());
    BOOST_TEST(socket.is_open());
    BOOST_TEST((r.fallback == tfo::error::multipath_unavailable));
    BOOST_TEST(!tfo::get_multipath_info(socket).opened_multipath);
}

BOOST_AUTO_TEST_SUITE_END() // unit_multipath
