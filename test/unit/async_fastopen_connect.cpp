//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
#include <tfo/async_fastopen_connect.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <array>
#include <cerrno>
#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_async_fastopen_connect)

namespace asio = boost::asio;
using asio::ip::tcp;

// ---------------------------------------------------------------------------
// Compile-only: every overload with every completion style instantiates.
// The function is never called.
[[maybe_unused]] void instantiate_everything(tcp::socket& socket, const tcp::endpoint& ep,
                                             const tcp::resolver::results_type& results)
{
    const std::string request = "GET / HTTP/1.1\r\n\r\n";
    auto buffer = asio::buffer(request);
    std::array<asio::const_buffer, 2> gather{buffer, buffer};

    tfo::async_fastopen_connect(socket, ep, buffer, [](boost::system::error_code, std::size_t) {});
    tfo::async_fastopen_connect(socket, ep, gather, [](boost::system::error_code, std::size_t) {});
    tfo::async_fastopen_connect(socket, results, buffer,
                                [](boost::system::error_code, const tcp::endpoint&, std::size_t) {});
    std::vector<tcp::endpoint> endpoints{ep};
    tfo::async_fastopen_connect(socket, endpoints, buffer,
                                [](boost::system::error_code, const tcp::endpoint&, std::size_t) {});

    std::future<std::size_t> f = tfo::async_fastopen_connect(socket, ep, buffer, asio::use_future);
    std::future<std::tuple<tcp::endpoint, std::size_t>> f2 =
        tfo::async_fastopen_connect(socket, results, buffer, asio::use_future);
    (void)f;
    (void)f2;

    auto d = tfo::async_fastopen_connect(socket, ep, buffer, asio::deferred);
    std::move(d)([](boost::system::error_code, std::size_t) {});

    auto strand = asio::make_strand(socket.get_executor());
    tfo::async_fastopen_connect(socket, ep, buffer,
                                asio::bind_executor(strand, [](boost::system::error_code, std::size_t) {}));

    asio::co_spawn(
        socket.get_executor(),
        [&]() -> asio::awaitable<void> {
            std::size_t n = co_await tfo::async_fastopen_connect(socket, ep, buffer, asio::use_awaitable);
            auto [ec, n2] =
                co_await tfo::async_fastopen_connect(socket, ep, buffer, asio::as_tuple(asio::use_awaitable));
            auto [ep2, n3] = co_await tfo::async_fastopen_connect(socket, results, buffer, asio::use_awaitable);
            (void)n, (void)ec, (void)n2, (void)ep2, (void)n3;
        },
        asio::detached);

    // Default token of a socket whose executor has one.
    using awaitable_socket = asio::use_awaitable_t<>::as_default_on_t<tcp::socket>;
    [[maybe_unused]] auto coro = [](awaitable_socket& s, tcp::endpoint e,
                                    asio::const_buffer b) -> asio::awaitable<std::size_t> {
        co_return co_await tfo::async_fastopen_connect(s, e, b);
    };

    std::size_t n = tfo::fastopen_connect(socket, ep, buffer);
    boost::system::error_code ec;
    n += tfo::fastopen_connect(socket, ep, gather, ec);
    const tfo::fastopen_connect_result r = tfo::fastopen_connect(socket, results, buffer);
    const auto [connected_to, n4] = tfo::fastopen_connect(socket, endpoints, gather, ec);
    (void)n;
    (void)r;
    (void)connected_to;
    (void)n4;
}

// ---------------------------------------------------------------------------
// Runtime, without a network. The decisions are tested in
// test/unit/detail/connect_algorithm.cpp, the buffer walk in buffer_cursor.cpp.

// Errors found before anything is sent still complete through the executor,
// never inside the initiating call.
BOOST_AUTO_TEST_CASE(family_mismatch_completes_later_with_a_clear_error)
{
    asio::io_context io;
    tcp::socket socket(io, tcp::v6());
    bool called = false;
    boost::system::error_code result;
    tfo::async_fastopen_connect(socket, tcp::endpoint(asio::ip::address_v4::loopback(), 9), asio::buffer("x", 1),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    called = true;
                                    result = ec;
                                    BOOST_TEST(n == 0u);
                                });
    BOOST_TEST(!called);
    io.run();
    BOOST_TEST(called);
    BOOST_TEST((result == asio::error::address_family_not_supported));
    BOOST_TEST(socket.is_open());
}

BOOST_AUTO_TEST_CASE(family_mismatch_sync)
{
    asio::io_context io;
    tcp::socket socket(io, tcp::v6());
    boost::system::error_code ec;
    auto n = tfo::fastopen_connect(socket, tcp::endpoint(asio::ip::address_v4::loopback(), 9),
                                   asio::buffer("x", 1), ec);
    BOOST_TEST(n == 0u);
    BOOST_TEST((ec == asio::error::address_family_not_supported));
    BOOST_CHECK_THROW(tfo::fastopen_connect(socket, tcp::endpoint(asio::ip::address_v4::loopback(), 9),
                                            asio::buffer("x", 1)),
                      boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(empty_endpoint_sequence_is_not_found)
{
    asio::io_context io;
    tcp::socket socket(io);
    std::vector<tcp::endpoint> none;
    bool called = false;
    tfo::async_fastopen_connect(socket, none, asio::buffer("x", 1),
                                [&](boost::system::error_code ec, tcp::endpoint ep, std::size_t n) {
                                    called = true;
                                    BOOST_TEST((ec == asio::error::not_found));
                                    BOOST_TEST((ep == tcp::endpoint()));
                                    BOOST_TEST(n == 0u);
                                });
    BOOST_TEST(!called);
    io.run();
    BOOST_TEST(called);
}

BOOST_AUTO_TEST_CASE(empty_endpoint_sequence_is_not_found_sync)
{
    asio::io_context io;
    tcp::socket socket(io);
    std::vector<tcp::endpoint> none;
    boost::system::error_code ec;
    const auto [ep, n] = tfo::fastopen_connect(socket, none, asio::buffer("x", 1), ec);
    BOOST_TEST((ec == asio::error::not_found));
    BOOST_TEST((ep == tcp::endpoint()));
    BOOST_TEST(n == 0u);
    BOOST_CHECK_THROW(tfo::fastopen_connect(socket, none, asio::buffer("x", 1)), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(deferred_does_nothing_until_invoked)
{
    asio::io_context io;
    tcp::socket socket(io, tcp::v6());
    auto op = tfo::async_fastopen_connect(socket, tcp::endpoint(asio::ip::address_v4::loopback(), 9),
                                          asio::buffer("x", 1), asio::deferred);
    BOOST_TEST(io.poll() == 0u);
    io.restart();
    bool called = false;
    std::move(op)([&](boost::system::error_code ec, std::size_t) {
        called = true;
        BOOST_TEST((ec == asio::error::address_family_not_supported));
    });
    io.run();
    BOOST_TEST(called);
}

BOOST_AUTO_TEST_SUITE_END() // unit_async_fastopen_connect
