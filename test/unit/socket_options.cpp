//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
#include <tfo/socket_options.hpp>

#include <boost/test/unit_test.hpp>

#include "platform.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <numeric>
#include <utility>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_socket_options)

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::vector<unsigned char> bytes(std::size_t n)
{
    std::vector<unsigned char> v(n);
    std::iota(v.begin(), v.end(), static_cast<unsigned char>(1));
    return v;
}

} // namespace

BOOST_AUTO_TEST_CASE(options_describe_the_kernel_names, *tfo::test::with_fast_open())
{
    const tcp p = tcp::v4();
    BOOST_TEST(tfo::fast_open{}.level(p) == IPPROTO_TCP);
    BOOST_TEST(tfo::fast_open{}.name(p) == 23);
    BOOST_TEST(tfo::fast_open_deferred_connect{}.name(p) == 30);
    BOOST_TEST(tfo::fast_open_key{}.name(p) == 33);
    BOOST_TEST(tfo::fast_open_no_cookie{}.name(p) == 34);
}

// Where the platform has no such options, each names one no system has, so
// that setting it fails with no_protocol_option instead of setting another.
BOOST_AUTO_TEST_CASE(options_name_no_option_without_fast_open, *tfo::test::without_fast_open())
{
    const tcp p = tcp::v4();
    BOOST_TEST(tfo::fast_open{}.level(p) == IPPROTO_TCP);
    BOOST_TEST(tfo::fast_open{}.name(p) == -1);
    BOOST_TEST(tfo::fast_open_deferred_connect{}.name(p) == -1);
    BOOST_TEST(tfo::fast_open_key{}.name(p) == -1);
    BOOST_TEST(tfo::fast_open_no_cookie{}.name(p) == -1);
}

BOOST_AUTO_TEST_CASE(option_values)
{
    const tcp p = tcp::v4();
    BOOST_TEST(tfo::fast_open{256}.value() == 256);
    BOOST_TEST(tfo::fast_open{256}.size(p) == sizeof(int));
    BOOST_TEST(tfo::fast_open_deferred_connect{true}.value());
    BOOST_TEST(!tfo::fast_open_no_cookie{false});
}

BOOST_AUTO_TEST_CASE(resize_rejects_a_wrong_size)
{
    const tcp p = tcp::v4();
    tfo::fast_open q;
    BOOST_CHECK_NO_THROW(q.resize(p, sizeof(int)));
    BOOST_CHECK_THROW(q.resize(p, 1), std::length_error);
    tfo::fast_open_deferred_connect c;
    BOOST_CHECK_THROW(c.resize(p, 8), std::length_error);
    tfo::fast_open_key k;
    BOOST_CHECK_NO_THROW(k.resize(p, 16));
    BOOST_TEST(k.primary().size() == 16u);
    BOOST_TEST(k.backup().empty());
    BOOST_CHECK_THROW(k.resize(p, 20), std::length_error);
}

BOOST_AUTO_TEST_CASE(key_of_one_or_two_keys)
{
    const auto one = bytes(16);
    tfo::fast_open_key k1(one);
    BOOST_TEST(!k1.empty());
    BOOST_TEST(!k1.has_backup());
    BOOST_TEST(std::as_const(k1).size(tcp::v4()) == 16u);
    BOOST_TEST(k1.size(tcp::v4()) == 32u); // room for a get
    BOOST_TEST(k1.primary().size() == 16u);
    BOOST_TEST(k1.backup().empty());
    BOOST_TEST(k1.primary()[0] == 1);

    const auto two = bytes(32);
    tfo::fast_open_key k2(two);
    BOOST_TEST(k2.has_backup());
    BOOST_TEST(std::as_const(k2).size(tcp::v4()) == 32u);
    BOOST_TEST(k2.backup()[0] == 17);

    std::array<unsigned char, 16> a{}, b{};
    a.fill(7);
    b.fill(9);
    tfo::fast_open_key k3(a, b);
    BOOST_TEST(k3.has_backup());
    BOOST_TEST(k3.primary()[15] == 7);
    BOOST_TEST(k3.backup()[0] == 9);
    BOOST_TEST((k3 == tfo::fast_open_key(k3.bytes())));
    BOOST_TEST(!(k3 == k2));
}

BOOST_AUTO_TEST_CASE(key_of_a_wrong_size_is_rejected_before_any_syscall)
{
    for (std::size_t n : {0u, 1u, 15u, 17u, 31u, 33u, 64u})
    {
        const auto raw = bytes(n);
        BOOST_CHECK_EXCEPTION(tfo::fast_open_key{raw}, boost::system::system_error,
                              [](const boost::system::system_error& e) {
                                  return e.code() == tfo::error::invalid_key_size;
                              });
        boost::system::error_code ec;
        tfo::fast_open_key k(raw, ec);
        BOOST_TEST((ec == tfo::error::invalid_key_size));
        BOOST_TEST(k.empty());
    }
}

BOOST_AUTO_TEST_CASE(empty_key_cannot_be_set, *tfo::test::with_fast_open())
{
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::v4());
    boost::system::error_code ec;
    acceptor.set_option(tfo::fast_open_key{}, ec);
    BOOST_TEST((ec == asio::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(options_on_a_closed_socket_fail_cleanly)
{
    asio::io_context io;
    tcp::socket socket(io);
    boost::system::error_code ec;
    socket.set_option(tfo::fast_open_deferred_connect{true}, ec);
    BOOST_TEST((ec == asio::error::bad_descriptor));
    tfo::fast_open q;
    socket.get_option(q, ec);
    BOOST_TEST((ec == asio::error::bad_descriptor));
    BOOST_CHECK_THROW(socket.set_option(tfo::fast_open{1}), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(options_on_a_udp_socket_fail_cleanly)
{
    asio::io_context io;
    asio::ip::udp::socket socket(io, asio::ip::udp::v4());
    boost::system::error_code ec;
    socket.set_option(tfo::fast_open{16}, ec);
    BOOST_TEST(static_cast<bool>(ec));
    socket.set_option(tfo::fast_open_deferred_connect{true}, ec);
    BOOST_TEST(static_cast<bool>(ec));
}

BOOST_AUTO_TEST_SUITE_END() // unit_socket_options
