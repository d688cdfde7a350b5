#include <tfo/async_fastopen_connect.hpp>

#define BOOST_TEST_MODULE async_fastopen_connect
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

namespace asio = boost::asio;
using asio::ip::tcp;
using tfo::detail::first_send_outcome;

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
    (void)n;
}

// ---------------------------------------------------------------------------
// Runtime, without a network: the decisions and the buffer walk.

BOOST_AUTO_TEST_CASE(first_send_data_in_syn)
{
    auto r = tfo::detail::classify_first_send(1200, 0);
    BOOST_TEST((r.outcome == first_send_outcome::syn_sent));
    BOOST_TEST(r.bytes == 1200u);
    BOOST_TEST(!r.ec);
}

BOOST_AUTO_TEST_CASE(first_send_cookie_request)
{
    auto r = tfo::detail::classify_first_send(-1, EINPROGRESS);
    BOOST_TEST((r.outcome == first_send_outcome::syn_sent));
    BOOST_TEST(r.bytes == 0u);
}

BOOST_AUTO_TEST_CASE(first_send_client_tfo_off_falls_back)
{
    auto r = tfo::detail::classify_first_send(-1, EOPNOTSUPP);
    BOOST_TEST((r.outcome == first_send_outcome::fall_back));
    BOOST_TEST(!r.ec);
}

BOOST_AUTO_TEST_CASE(first_send_immediate_errors)
{
    for (int e : {ECONNREFUSED, ENETUNREACH, EALREADY, EISCONN, EAGAIN, EADDRNOTAVAIL})
    {
        auto r = tfo::detail::classify_first_send(-1, e);
        BOOST_TEST((r.outcome == first_send_outcome::failed));
        BOOST_TEST(r.ec.value() == e);
        BOOST_TEST((r.ec.category() == boost::system::system_category()));
    }
}

BOOST_AUTO_TEST_CASE(cursor_walks_a_gather_sequence)
{
    const std::string a = "hello", b = "", c = "world!";
    std::array<asio::const_buffer, 3> seq{asio::buffer(a), asio::buffer(b), asio::buffer(c)};
    tfo::detail::buffer_cursor<decltype(seq)> cursor(seq);
    BOOST_TEST(cursor.total() == 11u);
    auto p = cursor.prepare();
    BOOST_TEST(p.count() == 2u); // the empty buffer is skipped
    cursor.consume(3);
    p = cursor.prepare();
    BOOST_TEST(asio::buffer_size(p) == 8u);
    BOOST_TEST(std::string(static_cast<const char*>(p.begin()->data()), p.begin()->size()) == "lo");
    cursor.consume(2);
    p = cursor.prepare();
    BOOST_TEST(p.count() == 1u);
    BOOST_TEST(std::string(static_cast<const char*>(p.begin()->data()), p.begin()->size()) == "world!");
    cursor.consume(100);
    BOOST_TEST(cursor.done());
    BOOST_TEST(cursor.consumed() == 11u);
    BOOST_TEST(cursor.prepare().count() == 0u);
    cursor.rewind();
    BOOST_TEST(cursor.consumed() == 0u);
    BOOST_TEST(asio::buffer_size(cursor.prepare()) == 11u);
}

BOOST_AUTO_TEST_CASE(cursor_prepares_at_most_64_buffers)
{
    std::vector<std::string> parts(100, "x");
    std::vector<asio::const_buffer> seq;
    for (auto& s : parts)
        seq.push_back(asio::buffer(s));
    tfo::detail::buffer_cursor<std::vector<asio::const_buffer>> cursor(seq);
    BOOST_TEST(cursor.prepare().count() == 64u);
    cursor.consume(64);
    BOOST_TEST(cursor.prepare().count() == 36u);
}

BOOST_AUTO_TEST_CASE(cursor_survives_moves)
{
    // A single const_buffer lives inside the cursor: positions must be indices.
    const std::string text = "abcdef";
    tfo::detail::buffer_cursor<asio::const_buffer> c1(asio::buffer(text));
    c1.consume(2);
    auto c2 = std::move(c1);
    auto p = c2.prepare();
    BOOST_TEST(std::string(static_cast<const char*>(p.begin()->data()), p.begin()->size()) == "cdef");
}

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
