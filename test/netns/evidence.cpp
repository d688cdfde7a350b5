//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Real TCP Fast Open in private network namespaces: the socket options and
// the evidence functions, proved with the kernel's own counters and TCP_INFO.
// The client here is raw sendto(MSG_FASTOPEN), so that these tests do not
// depend on tfo's own client.

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include <boost/test/unit_test.hpp>

#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <string>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_evidence)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using tfo::netns::private_netns;

namespace {

const std::string request = "GET / HTTP/1.1\r\nHost: tfo\r\n\r\n";

void check_cookie_flow(const tcp& protocol)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, protocol, 16);

    // A fresh namespace: the counters start at zero.
    BOOST_TEST((tfo::kernel_counters() == tfo::fast_open_counters{}));

    // First contact: no cookie yet, so the SYN asks for one and carries no data.
    auto first = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_TEST(first.counted.active == 0u);
    BOOST_TEST(first.counted.passive == 0u);
    auto client_info = tfo::get_fast_open_info(first.client);
    BOOST_TEST(!client_info.syn_data_acked);
    BOOST_TEST((client_info.failure == tfo::client_failure::cookie_unavailable));
    BOOST_TEST(!tfo::get_fast_open_info(first.server).syn_data_acked);

    // Second contact: the request rides in the SYN and is accepted with it.
    auto second = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(second.counted.cookie_reqd == 0u);
    BOOST_TEST(second.counted.active == 1u);
    BOOST_TEST(second.counted.passive == 1u);
    BOOST_TEST(tfo::get_fast_open_info(second.client).syn_data_acked);
    auto server_info = tfo::get_fast_open_info(second.server);
    BOOST_TEST(server_info.syn_data_acked);
    if (tfo::test::kernel_at_least(6, 10))
        BOOST_TEST(server_info.fast_open_child);
    // The request was already there when accept returned.
    BOOST_TEST(second.readable_at_accept == request.size());
}

} // namespace

BOOST_AUTO_TEST_SUITE(evidence, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(cookie_then_data_in_syn_ipv4)
{
    check_cookie_flow(tcp::v4());
}

BOOST_AUTO_TEST_CASE(cookie_then_data_in_syn_ipv6)
{
    check_cookie_flow(tcp::v6());
}

BOOST_AUTO_TEST_CASE(system_support_reads_this_namespace)
{
    private_netns ns(0x207);
    auto s = tfo::system_support();
    BOOST_TEST(s.value == 0x207);
    BOOST_TEST(s.client_enabled());
    BOOST_TEST(s.server_enabled());
    BOOST_TEST(s.client_no_cookie());
    BOOST_TEST(s.server_no_cookie());
    BOOST_TEST(!s.server_without_option());
    ns.set_tcp_fastopen(0);
    BOOST_TEST(tfo::system_support().value == 0);
}

BOOST_AUTO_TEST_CASE(mode_0_client_refused_by_kernel)
{
    private_netns ns(0);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16); // the option itself is accepted
    boost::system::error_code ec;
    tfo::netns::raw_fastopen_client(io, acceptor.local_endpoint(), request, ec);
    BOOST_TEST((ec == asio::error::operation_not_supported), ec.message());
    tcp::socket plain(io);
    plain.connect(acceptor.local_endpoint());
    acceptor.accept();
    BOOST_TEST((tfo::kernel_counters() == tfo::fast_open_counters{}));
}

BOOST_AUTO_TEST_CASE(mode_1_client_only_never_gets_a_cookie)
{
    private_netns ns(1);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    tfo::test::raw_connect_once(io, acceptor, request);
    auto second = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(second.counted.active == 0u);
    BOOST_TEST(second.counted.passive == 0u);
    // The listener, whose Fast Open is off, still counts the cookie request:
    // CookieReqd rises at any listener, so it is no sign that a server does TFO.
    BOOST_TEST(second.counted.cookie_reqd == 1u);
    auto info = tfo::get_fast_open_info(second.client);
    BOOST_TEST(!info.syn_data_acked);
    BOOST_TEST((info.failure == tfo::client_failure::cookie_unavailable));
    BOOST_TEST(!tfo::get_fast_open_info(second.server).syn_data_acked);
}

BOOST_AUTO_TEST_CASE(mode_2_server_only_client_refused)
{
    private_netns ns(2);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    boost::system::error_code ec;
    tfo::netns::raw_fastopen_client(io, acceptor.local_endpoint(), request, ec);
    BOOST_TEST((ec == asio::error::operation_not_supported), ec.message());
}

BOOST_AUTO_TEST_CASE(mode_3_without_the_listener_option_no_tfo)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 0);
    tfo::test::raw_connect_once(io, acceptor, request);
    auto second = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(second.counted.passive == 0u);
    BOOST_TEST(second.counted.cookie_reqd == 1u); // asked again, at a listener without the option
    BOOST_TEST(!tfo::get_fast_open_info(second.client).syn_data_acked);
}

BOOST_AUTO_TEST_CASE(no_cookie_bits_send_data_on_first_contact)
{
    // 0x4: clients skip the cookie; 0x200: servers do not ask for one.
    private_netns ns(0x207);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    auto first = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(first.counted.cookie_reqd == 0u);
    BOOST_TEST(first.counted.active == 1u);
    BOOST_TEST(first.counted.passive == 1u);
    BOOST_TEST(tfo::get_fast_open_info(first.server).syn_data_acked);
}

BOOST_AUTO_TEST_CASE(no_cookie_option_on_both_sides)
{
    private_netns ns(3);
    asio::io_context io;
    tcp::acceptor acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    acceptor.set_option(tfo::fast_open_no_cookie{true});
    tfo::fast_open_no_cookie got;
    acceptor.get_option(got);
    BOOST_TEST(got.value());

    tcp::socket client(io, tcp::v4());
    client.set_option(tfo::fast_open_no_cookie{true});
    const auto before = tfo::kernel_counters();
    boost::system::error_code ec;
    tfo::netns::fastopen_sendto(client, acceptor.local_endpoint(), request, ec);
    BOOST_TEST(!ec, ec.message());
    tcp::socket server = acceptor.accept();
    const auto counted = tfo::kernel_counters() - before;
    BOOST_TEST(counted.cookie_reqd == 0u);
    BOOST_TEST(counted.active == 1u);
    BOOST_TEST(counted.passive == 1u);
    BOOST_TEST(tfo::get_fast_open_info(client).syn_data_acked);
}

BOOST_AUTO_TEST_CASE(listener_option_set_after_listen)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 0);
    acceptor.set_option(tfo::fast_open{8}); // after listen()
    tfo::fast_open got;
    acceptor.get_option(got);
    BOOST_TEST(got.value() == 8);
    tfo::test::raw_connect_once(io, acceptor, request);
    auto second = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(second.counted.passive == 1u);
    BOOST_TEST(tfo::get_fast_open_info(second.server).syn_data_acked);
}

BOOST_AUTO_TEST_CASE(option_round_trips)
{
    private_netns ns(3);
    asio::io_context io;
    for (const tcp protocol : {tcp::v4(), tcp::v6()})
    {
        tcp::acceptor acceptor(io, protocol);
        acceptor.set_option(tfo::fast_open{256});
        tfo::fast_open queue;
        acceptor.get_option(queue);
        BOOST_TEST(queue.value() == 256);

        boost::system::error_code ec;
        acceptor.set_option(tfo::fast_open{-1}, ec);
        BOOST_TEST((ec == asio::error::invalid_argument));

        tcp::socket socket(io, protocol);
        tfo::fast_open_deferred_connect connect_opt;
        socket.get_option(connect_opt);
        BOOST_TEST(!connect_opt.value());
        socket.set_option(tfo::fast_open_deferred_connect{true});
        socket.get_option(connect_opt);
        BOOST_TEST(connect_opt.value());
        socket.set_option(tfo::fast_open_no_cookie{true});
        tfo::fast_open_no_cookie no_cookie;
        socket.get_option(no_cookie);
        BOOST_TEST(no_cookie.value());
    }
}

BOOST_AUTO_TEST_CASE(key_round_trip_primary_and_backup)
{
    private_netns ns(3);
    asio::io_context io;
    for (const tcp protocol : {tcp::v4(), tcp::v6()})
    {
        auto acceptor = tfo::test::make_listener(io, protocol, 16);
        std::array<unsigned char, 16> primary{}, backup{};
        primary.fill(0x11);
        backup.fill(0x22);

        acceptor.set_option(tfo::fast_open_key{primary});
        tfo::fast_open_key got;
        acceptor.get_option(got);
        BOOST_TEST(!got.has_backup());
        BOOST_TEST((got == tfo::fast_open_key{primary}));

        tfo::fast_open_key both(primary, backup);
        boost::system::error_code ec;
        acceptor.set_option(both, ec);
        BOOST_TEST(!ec, ec.message());
        acceptor.get_option(got);
        BOOST_TEST(got.has_backup());
        BOOST_TEST((got == both));

        // A key of the wrong size never reaches the kernel: the listener keeps its key.
        std::array<unsigned char, 20> wrong{};
        tfo::fast_open_key bad(wrong, ec);
        BOOST_TEST((ec == tfo::error::invalid_key_size));
        acceptor.get_option(got);
        BOOST_TEST((got == both));
    }
}

BOOST_AUTO_TEST_CASE(fast_open_connect_refused_when_client_bit_off)
{
    private_netns ns(2);
    asio::io_context io;
    tcp::socket socket(io, tcp::v4());
    boost::system::error_code ec;
    socket.set_option(tfo::fast_open_deferred_connect{true}, ec);
    BOOST_TEST((ec == asio::error::operation_not_supported), ec.message());
}

// The option's first trap: with a cookie cached, connect() succeeds before any
// packet leaves; the SYN goes with the first write.
BOOST_AUTO_TEST_CASE(fast_open_connect_defers_the_syn_to_the_first_write)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    acceptor.non_blocking(true);
    tfo::test::raw_connect_once(io, acceptor, request); // cache a cookie

    tcp::socket client(io, tcp::v4());
    client.set_option(tfo::fast_open_deferred_connect{true});
    const auto before = tfo::kernel_counters();
    client.connect(acceptor.local_endpoint()); // returns at once

    boost::system::error_code ec;
    tcp::socket nothing_yet(io);
    acceptor.accept(nothing_yet, ec);
    BOOST_TEST((ec == asio::error::would_block), "the server saw no SYN before the first write");
    BOOST_TEST((tfo::get_fast_open_info(client).state == tfo::tcp_state::syn_sent)); // though nothing was sent

    asio::write(client, asio::buffer(request));
    acceptor.non_blocking(false);
    tcp::socket server = acceptor.accept();
    const auto counted = tfo::kernel_counters() - before;
    BOOST_TEST(counted.active == 1u);
    BOOST_TEST(counted.passive == 1u);
    BOOST_TEST(tfo::get_fast_open_info(server).syn_data_acked);
}

// Its second trap: a client that waits for the server to speak first never
// sends a SYN, so the server never sees the connection. Shown without a time
// window: an nftables counter proves that no SYN left, and nothing could be
// accepted or read.
BOOST_AUTO_TEST_CASE(fast_open_connect_stalls_a_server_speaks_first_protocol)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    tfo::test::raw_connect_once(io, acceptor, request);
    const auto before = tfo::kernel_counters();
    private_netns::nft("table inet tfo_syn_count { chain output { type filter hook output priority 0; tcp dport " +
                       std::to_string(acceptor.local_endpoint().port()) + " tcp flags & syn == syn counter; }; }");

    tcp::socket client(io, tcp::v4());
    client.set_option(tfo::fast_open_deferred_connect{true});
    client.connect(acceptor.local_endpoint()); // returns at once: the SYN waits for the first write

    BOOST_TEST(private_netns::run("nft list table inet tfo_syn_count | grep -q 'packets 0 '") == 0,
               "no SYN left the client");
    boost::system::error_code ec;
    acceptor.non_blocking(true);
    tcp::socket nothing(io);
    acceptor.accept(nothing, ec);
    BOOST_TEST((ec == asio::error::would_block), "nothing to accept: " << ec.message());
    std::array<char, 16> greeting;
    client.non_blocking(true);
    client.read_some(asio::buffer(greeting), ec);
    BOOST_TEST((ec == asio::error::would_block), "the client waits for a greeting that cannot come: " << ec.message());
    BOOST_TEST(((tfo::kernel_counters() - before) == tfo::fast_open_counters{}));
}

// The option's third trap: if what let connect() defer (a cached cookie, or
// the no-cookie mode) is gone by the time of the first write, the SYN leaves
// without data and a non-blocking write fails with EINPROGRESS, which plain
// Asio reports as an error. The namespace is fresh, so no cookie is cached:
// connect() defers under the no-cookie mode (0x4), which is then switched
// off. (Flushing a cached cookie instead, `ip tcp_metrics flush`, needs a
// privilege that a user namespace lacks.)
BOOST_AUTO_TEST_CASE(fast_open_connect_first_write_may_fail_with_in_progress)
{
    private_netns ns(0x7);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);

    tcp::socket client(io, tcp::v4());
    client.set_option(tfo::fast_open_deferred_connect{true});
    client.connect(acceptor.local_endpoint()); // deferred: no cookie needed
    ns.set_tcp_fastopen(3); // now a cookie is needed

    boost::system::error_code result;
    asio::async_write(client, asio::buffer(request), [&](boost::system::error_code ec, std::size_t) { result = ec; });
    io.run();
    BOOST_TEST((result == asio::error::in_progress), result.message());
    BOOST_TEST((tfo::get_fast_open_info(client).failure == tfo::client_failure::cookie_unavailable));
    acceptor.accept(); // the handshake is done, so the server has counted the SYN
    const auto counted = tfo::kernel_counters();
    BOOST_TEST(counted.cookie_reqd == 1u); // the SYN asked for a cookie ...
    BOOST_TEST(counted.passive == 0u);     // ... and carried no data
}

// A cookie made with an old key: the server rejects the SYN's data, and the
// client learns why from TCP_INFO.
BOOST_AUTO_TEST_CASE(stale_cookie_after_a_key_change_is_not_acked)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    std::array<unsigned char, 16> key{};
    key.fill(0x5a);
    acceptor.set_option(tfo::fast_open_key{key});
    tfo::test::raw_connect_once(io, acceptor, request); // cookie made with the first key

    key.fill(0xa5);
    acceptor.set_option(tfo::fast_open_key{key});
    auto stale = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(stale.counted.passive == 0u);
    BOOST_TEST(stale.counted.passive_fail == 1u);
    auto info = tfo::get_fast_open_info(stale.client);
    BOOST_TEST(!info.syn_data_acked);
    BOOST_TEST((info.failure == tfo::client_failure::data_not_acked), tfo::to_string(info.failure));
    BOOST_TEST(!tfo::get_fast_open_info(stale.server).syn_data_acked);

    // The SYN-ACK brought a fresh cookie: the next connection is fast again.
    auto fresh = tfo::test::raw_connect_once(io, acceptor, request);
    BOOST_TEST(fresh.counted.passive == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_evidence
