//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
#include <tfo/fast_open_info.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/error.hpp>

#include "platform.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_fast_open_info)

namespace asio = boost::asio;
using asio::ip::tcp;

BOOST_AUTO_TEST_CASE(failure_names)
{
    BOOST_TEST(tfo::to_string(tfo::client_failure::unspecified) == "unspecified");
    BOOST_TEST(tfo::to_string(tfo::client_failure::cookie_unavailable) == "cookie unavailable");
    BOOST_TEST(tfo::to_string(tfo::client_failure::data_not_acked) == "data not acknowledged");
    BOOST_TEST(tfo::to_string(tfo::client_failure::syn_retransmitted) == "SYN retransmitted");
    BOOST_TEST(tfo::to_string(static_cast<tfo::client_failure>(9)) == "unknown");
}

BOOST_AUTO_TEST_CASE(closed_socket)
{
    asio::io_context io;
    tcp::socket socket(io);
    boost::system::error_code ec;
    tfo::get_fast_open_info(socket, ec);
    BOOST_TEST((ec == asio::error::bad_descriptor));
    BOOST_CHECK_THROW(tfo::get_fast_open_info(socket), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(socket_never_connected, *tfo::test::with_fast_open())
{
    asio::io_context io;
    tcp::socket socket(io, tcp::v4());
    boost::system::error_code ec;
    tfo::get_fast_open_info(socket, ec);
    BOOST_TEST((ec == tfo::error::not_a_connection));
}

BOOST_AUTO_TEST_CASE(listening_socket, *tfo::test::with_fast_open())
{
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    boost::system::error_code ec;
    tfo::get_fast_open_info(acceptor, ec);
    BOOST_TEST((ec == tfo::error::not_a_connection));
}

namespace {

// The least a layered stream offers: a lowest layer that is a socket.
struct layered
{
    tcp::socket socket;
    tcp::socket::lowest_layer_type& lowest_layer() { return socket; }
    const tcp::socket::lowest_layer_type& lowest_layer() const { return socket; }
};

} // namespace

BOOST_AUTO_TEST_CASE(const_socket_and_layered_streams, *tfo::test::with_fast_open())
{
    asio::io_context io;
    const tcp::socket closed(io);
    boost::system::error_code ec;
    tfo::get_fast_open_info(closed, ec);
    BOOST_TEST((ec == asio::error::bad_descriptor));

    layered stream{tcp::socket(io, tcp::v4())};
    tfo::get_fast_open_info(stream, ec);
    BOOST_TEST((ec == tfo::error::not_a_connection), "read through lowest_layer()");
    const layered& view = stream;
    ec = {};
    tfo::get_fast_open_info(view, ec);
    BOOST_TEST((ec == tfo::error::not_a_connection));
    BOOST_CHECK_THROW(tfo::get_fast_open_info(view), boost::system::system_error);
}

// test/loopback/fallback.cpp checks connections too.
BOOST_AUTO_TEST_CASE(not_supported_without_fast_open, *tfo::test::without_fast_open())
{
    asio::io_context io;
    tcp::socket socket(io, tcp::v4());
    boost::system::error_code ec;
    tfo::get_fast_open_info(socket, ec);
    BOOST_TEST((ec == tfo::error::not_supported));
    BOOST_CHECK_THROW(tfo::get_fast_open_info(socket), boost::system::system_error);
}

BOOST_AUTO_TEST_SUITE_END() // unit_fast_open_info
