//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::async_fastopen_connect against real TCP Fast Open in private network
// namespaces. Where Fast Open is not possible: the ordinary connect, and the kernel's evidence that nothing rode in a SYN.
// Every TFO claim is checked on kernel evidence: the namespace's TcpExt
// counters and TCP_INFO on both ends.

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/path_memory.hpp>

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
BOOST_AUTO_TEST_SUITE(netns_connect_fallbacks)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;

BOOST_AUTO_TEST_SUITE(fastopen, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

namespace {

// Two connections in a namespace set to `mode`, to a listener whose
// `fast_open` option is `queue`: both are delivered the ordinary way, with no
// Fast Open on either end; `check` looks at each outcome too.
template <typename Check>
void expect_two_ordinary_connections(int mode, int queue, Check check)
{
    private_netns ns(mode);
    asio::io_context io;
    auto acceptor = make_listener(io, tcp::v4(), queue);
    for (int i = 0; i < 2; ++i)
    {
        auto o = fastopen_once(acceptor, request);
        expect_delivered(o, request);
        expect_no_tfo(o);
        check(o);
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(fallback_when_client_tfo_is_off)
{
    for (int mode : {0, 2})
        expect_two_ordinary_connections(mode, 16, [mode](const outcome& o) {
            BOOST_TEST(o.counted.cookie_reqd == 0u, "mode " << mode << ": no SYN asked for a cookie");
        });
}

BOOST_AUTO_TEST_CASE(fallback_when_server_has_no_option)
{
    expect_two_ordinary_connections(3, 0, [](const outcome& o) {
        BOOST_TEST((o.client.failure == tfo::client_failure::cookie_unavailable));
    });
}

// The listener has the option, but the server bit is clear.
BOOST_AUTO_TEST_CASE(fallback_when_server_tfo_is_off)
{
    expect_two_ordinary_connections(1, 16, [](const outcome&) {});
}

// What the kernel alone does (the path memory off; connect_path_memory.cpp
// and connect_hedge.cpp test what tfo does about it).
BOOST_FIXTURE_TEST_CASE(middlebox_drops_syns_with_data, fast_open_listener)
{
    auto& memory = asio::use_service<tfo::path_memory>(io);
    auto options = memory.options();
    options.enabled = false;
    memory.set_options(options);
    fastopen_once(acceptor, request); // get a cookie

    drop_syns_with_data();
    const std::string payload = random_bytes(300, 7);
    auto o = fastopen_once(acceptor, payload);
    expect_delivered(o, payload); // the kernel, not tfo, resent the data after the handshake
    BOOST_TEST(!o.client.syn_data_acked);
    BOOST_TEST((o.client.failure == tfo::client_failure::syn_retransmitted),
               "failure: " << tfo::to_string(o.client.failure));
    BOOST_TEST(o.counted.passive == 0u);
    BOOST_TEST(o.counted.active_fail == 1u);
    BOOST_TEST(private_netns::run("nft list table ip tfo_middlebox | grep -q 'packets [1-9]'") == 0,
               "the rule dropped the SYN");
}

BOOST_FIXTURE_TEST_CASE(refused, fast_open_listener)
{
    // Count the SYNs that carry data (longer than the 20 + 60 bytes of a bare
    // SYN with every option), refused or not.
    private_netns::nft("table ip tfo_syn_data { chain output { type filter hook output priority 0; "
                       "tcp flags & (syn | ack) == syn ip length > 80 counter; }; }");
    auto syns_with_data = [] {
        return private_netns::run("nft list table ip tfo_syn_data | grep -q 'packets 1 '") == 0;
    };
    // Without, then with a cookie cached for 127.0.0.1: the second refused SYN carries data.
    for (int i = 0; i < 2; ++i)
    {
        if (i == 1)
            BOOST_TEST_REQUIRE(!syns_with_data(), "the first refused SYN only asked for a cookie");
        tcp::socket client(io);
        boost::system::error_code result;
        std::size_t written = 99;
        tfo::async_fastopen_connect(client, closed_port(io), asio::buffer(request),
                                    [&](boost::system::error_code ec, std::size_t n) {
                                        result = ec;
                                        written = n;
                                    });
        io.restart();
        io.run();
        BOOST_TEST((result == asio::error::connection_refused), result.message());
        BOOST_TEST(written == 0u, "nothing was delivered");
        if (i == 0)
            fastopen_once(acceptor, request); // the cookie: its SYN has no data either
    }
    BOOST_TEST(syns_with_data(), "the second refused SYN carried the request");
    boost::system::error_code ec;
    tcp::socket client(io);
    BOOST_TEST(tfo::fastopen_connect(client, closed_port(io), asio::buffer(request), ec) == 0u);
    BOOST_TEST((ec == asio::error::connection_refused));
}

BOOST_FIXTURE_TEST_CASE(already_connected_socket_sends_nothing, fast_open_listener)
{
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();

    boost::system::error_code result;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    result = ec;
                                    BOOST_TEST(n == 0u);
                                });
    io.run();
    BOOST_TEST((result == asio::error::already_connected), result.message());
    BOOST_TEST(server.available() == 0u);
    boost::system::error_code ec;
    BOOST_TEST(tfo::fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request), ec) == 0u);
    BOOST_TEST((ec == asio::error::already_connected));
    BOOST_TEST(server.available() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_fallbacks
