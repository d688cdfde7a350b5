//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::async_fastopen_connect against real TCP Fast Open in private network
// namespaces. What rides in the SYN and what follows it: every byte once and in order, on kernel evidence.
// Every TFO claim is checked on kernel evidence: the namespace's TcpExt
// counters and TCP_INFO on both ends.

#include <tfo/async_fastopen_connect.hpp>

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_data_path)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;

BOOST_AUTO_TEST_SUITE(fastopen, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_FIXTURE_TEST_CASE(cookie_then_request_in_syn, fast_open_listener)
{

    auto first = fastopen_once(acceptor, request);
    expect_delivered(first, request);
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_TEST((first.client.failure == tfo::client_failure::cookie_unavailable));
    expect_no_tfo(first);

    for (int i = 0; i < 3; ++i)
    {
        auto again = fastopen_once(acceptor, request);
        expect_delivered(again, request);
        // The whole request was readable the moment accept returned: it came in the SYN.
        expect_data_in_syn(again, request.size());
    }
}

BOOST_AUTO_TEST_CASE(ipv6)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v6(), 16);
    fastopen_once(acceptor, request);
    auto again = fastopen_once(acceptor, request);
    expect_delivered(again, request);
    expect_data_in_syn(again, request.size());
}

BOOST_FIXTURE_TEST_CASE(empty_buffers_connect_and_ask_for_a_cookie, fast_open_listener)
{
    auto first = fastopen_once(acceptor, std::string());
    BOOST_TEST(!first.ec, first.ec.message());
    BOOST_TEST(first.bytes == 0u);
    BOOST_TEST(first.received.empty());
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    // The cookie it asked for serves the next call.
    auto second = fastopen_once(acceptor, request);
    expect_data_in_syn(second, request.size());
}

BOOST_FIXTURE_TEST_CASE(one_byte, fast_open_listener)
{
    fastopen_once(acceptor, std::string("x"));
    const std::string one = "y";
    auto again = fastopen_once(acceptor, one);
    expect_delivered(again, one);
    expect_data_in_syn(again, 1);
}

BOOST_FIXTURE_TEST_CASE(one_mebibyte_more_than_fits_in_the_syn, cookie_cached)
{
    const std::string big = random_bytes(1 << 20, 42);
    auto o = fastopen_once(acceptor, big);
    expect_delivered(o, big);
    expect_data_in_syn(o, 1); // the SYN carried the first segment, not all of it
    BOOST_TEST(o.readable_at_accept < big.size());
}

BOOST_FIXTURE_TEST_CASE(gather_sequence_of_64_buffers, cookie_cached)
{

    std::vector<std::string> parts;
    std::vector<asio::const_buffer> sequence;
    for (unsigned i = 0; i < 64; ++i)
        parts.push_back(random_bytes(100 + 37 * i, i)); // 64 parts, ~80 KiB
    for (const auto& p : parts)
        sequence.push_back(asio::buffer(p));
    std::string expected;
    for (const auto& p : parts)
        expected += p;

    auto o = fastopen_once(acceptor, sequence);
    expect_delivered(o, expected);
    expect_data_in_syn(o, 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_data_path
