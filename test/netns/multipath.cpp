//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Multipath TCP with Fast Open, in private network namespaces: the repeat
// connection's data rides in the SYN of an MPTCP connection; the fallbacks
// (MPTCP off in the namespace, a plain TCP peer) work and say so; the
// endpoint-sequence connect and the stream reopen as MPTCP; cancellation and
// timeouts; and two hosts joined by two links, where an MPTCP transfer
// outlives the loss of the first link and the same TCP transfer stalls.
// Every case passes on the kernel's evidence: the TcpExt and MPTcpExt
// counters, TCP_INFO and the per-socket MPTCP state.

#include <tfo/multipath.hpp>

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/detail/linux_tcp.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_stream.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include <boost/test/unit_test.hpp>

#include "completion.hpp"
#include "connect_fixture.hpp"
#include "netns.hpp"

#include <tfo/netns/linked_netns.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_multipath)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace std::chrono_literals;
using tfo::netns::linked_netns;
using tfo::netns::private_netns;
using tfo::test::completion;
using tfo::test::record;
using tfo::test::request;
using tfo::test::run_until;

namespace {

// One fast-open connect from a client socket opened as `client_multipath`
// says, to `acceptor`, with the evidence of both ends.
struct connection
{
    tfo::test::outcome fast_open;  // the data, TCP_INFO, the TcpExt counters
    tfo::multipath_info client;    // read once connected
    tfo::multipath_info server;    // read on the accepted socket
    tfo::multipath_counters counted;
};

connection connect_once(tcp::acceptor& acceptor, bool client_multipath)
{
    auto& io = static_cast<asio::io_context&>(acceptor.get_executor().context());
    const auto before = tfo::kernel_counters();
    const auto multipath_before = tfo::kernel_multipath_counters();
    tfo::test::sink server{acceptor};
    server.start();
    tcp::socket client(io);
    if (client_multipath)
    {
        const auto opened = tfo::open_multipath(client, acceptor.local_endpoint().protocol());
        BOOST_REQUIRE_MESSAGE(opened.multipath, opened.fallback.message());
    }
    connection c;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    c.fast_open.ec = ec;
                                    c.fast_open.bytes = n;
                                    if (!ec)
                                    {
                                        c.fast_open.client = tfo::get_fast_open_info(client);
                                        c.client = tfo::get_multipath_info(client);
                                    }
                                    client.shutdown(tcp::socket::shutdown_send, ec);
                                });
    io.restart();
    io.run();
    c.fast_open.received = std::move(server.received);
    c.fast_open.readable_at_accept = server.readable_at_accept;
    c.fast_open.server = server.info;
    c.fast_open.counted = tfo::kernel_counters() - before;
    c.counted = tfo::kernel_multipath_counters() - multipath_before;
    BOOST_REQUIRE(server.socket);
    c.server = tfo::get_multipath_info(*server.socket);
    return c;
}

// The request arrived, in the SYN from the second connection to a listener on.
void expect_fast_open(const connection& c, int nth)
{
    tfo::test::expect_delivered(c.fast_open, request);
    if (nth > 0)
        tfo::test::expect_data_in_syn(c.fast_open, request.size());
}

// Both ends agreed on MPTCP, with one subflow each, as the counters say.
void expect_multipath(const connection& c)
{
    BOOST_TEST(c.client.opened_multipath);
    BOOST_TEST(c.client.active);
    BOOST_TEST(c.client.subflows == 1u);
    BOOST_TEST(c.server.opened_multipath);
    BOOST_TEST(c.server.active);
    BOOST_TEST(c.server.subflows == 1u);
    BOOST_TEST(c.counted.capable_syn_tx == 1u);
    BOOST_TEST(c.counted.capable_syn_rx == 1u);
    BOOST_TEST(c.counted.capable_syn_ack_rx == 1u);
    BOOST_TEST(c.counted.capable_fallback_syn_ack == 0u);
    BOOST_TEST(c.counted.capable_fallback_ack == 0u);
}

void fast_open_on_multipath(const tcp& protocol)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, protocol, 16, true);
    BOOST_TEST(tfo::get_multipath_info(acceptor).opened_multipath);

    // First contact: the SYN asks for a cookie and for MPTCP.
    const connection first = connect_once(acceptor, true);
    tfo::test::expect_delivered(first.fast_open, request);
    BOOST_TEST(first.fast_open.counted.cookie_reqd == 1u);
    BOOST_TEST(first.fast_open.counted.active == 0u);
    BOOST_TEST((first.fast_open.client.failure == tfo::client_failure::cookie_unavailable));
    expect_multipath(first);

    // The repeat: the request rides in the SYN of an MPTCP connection.
    const connection second = connect_once(acceptor, true);
    tfo::test::expect_delivered(second.fast_open, request);
    tfo::test::expect_data_in_syn(second.fast_open, request.size());
    expect_multipath(second);
}

// A listener that drops every SYN, so that a connect stays pending, with the
// evidence that an MPTCP SYN left.
struct unanswered_multipath
{
    private_netns ns{3};
    asio::io_context io;
    tcp::acceptor acceptor = tfo::test::make_listener(io, tcp::v4(), 16, true);
    tcp::socket client{io};
    tfo::multipath_counters before = tfo::kernel_multipath_counters();

    unanswered_multipath()
    {
        tfo::test::blackhole_port(acceptor.local_endpoint().port());
        BOOST_REQUIRE(tfo::open_multipath(client, tcp::v4()).multipath);
    }

    void expect_syns_dropped()
    {
        BOOST_TEST((tfo::kernel_multipath_counters() - before).capable_syn_tx >= 1u);
        BOOST_TEST((tfo::kernel_multipath_counters() - before).capable_syn_rx == 0u);
        BOOST_TEST(private_netns::run("nft list table inet tfo_blackhole | grep -q drop") == 0);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(multipath, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(fast_open_on_multipath_ipv4)
{
    fast_open_on_multipath(tcp::v4());
}

BOOST_AUTO_TEST_CASE(fast_open_on_multipath_ipv6)
{
    fast_open_on_multipath(tcp::v6());
}

BOOST_AUTO_TEST_CASE(system_support_reads_this_namespace)
{
    private_netns ns(3);
    auto support = tfo::system_multipath_support();
    BOOST_TEST(support.enabled);
    BOOST_TEST(support.fast_open);
    ns.set_sysctl("net/mptcp/enabled", "0");
    support = tfo::system_multipath_support();
    BOOST_TEST(!support.enabled);
    BOOST_TEST(!support.fast_open);
}

// MPTCP switched off in the namespace: both ends open TCP, say why, and Fast
// Open works as ever; no MPTCP SYN left.
BOOST_AUTO_TEST_CASE(switched_off_in_the_namespace)
{
    private_netns ns(3);
    ns.set_sysctl("net/mptcp/enabled", "0");
    asio::io_context io;
    tcp::acceptor acceptor(io);
    const auto opened = tfo::open_multipath(acceptor, tcp::v4());
    BOOST_TEST(!opened.multipath);
    BOOST_TEST((opened.fallback == tfo::error::multipath_disabled), opened.fallback.message());
    BOOST_TEST(acceptor.is_open());
    BOOST_TEST(!tfo::get_multipath_info(acceptor).opened_multipath);
    acceptor.set_option(tfo::fast_open{16});
    acceptor.bind({asio::ip::address_v4::loopback(), 0});
    acceptor.listen();

    for (int i = 0; i < 2; ++i)
    {
        const auto before = tfo::kernel_counters();
        const auto multipath_before = tfo::kernel_multipath_counters();
        tfo::test::sink server{acceptor};
        server.start();
        tcp::socket client(io);
        const auto client_opened = tfo::open_multipath(client, tcp::v4());
        BOOST_TEST((client_opened.fallback == tfo::error::multipath_disabled));
        completion c;
        tfo::multipath_info client_info;
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                    [&](boost::system::error_code ec, std::size_t n) {
                                        record(c)(ec, n);
                                        client_info = tfo::get_multipath_info(client);
                                        client.shutdown(tcp::socket::shutdown_send, ec);
                                    });
        io.restart();
        io.run();
        BOOST_TEST(!c.ec, c.ec.message());
        BOOST_TEST(server.received == request);
        BOOST_TEST(!client_info.opened_multipath);
        BOOST_TEST(!tfo::get_multipath_info(*server.socket).opened_multipath);
        const auto counted = tfo::kernel_counters() - before;
        BOOST_TEST(counted.active == (i == 0 ? 0u : 1u)); // the repeat's data rode in its SYN
        BOOST_TEST(counted.passive == (i == 0 ? 0u : 1u));
        BOOST_TEST(((tfo::kernel_multipath_counters() - multipath_before) == tfo::multipath_counters{}));
    }
}

// An MPTCP client and a TCP server: the kernel falls back to TCP, the client
// sees it, and the repeat's data still rides in the SYN.
BOOST_AUTO_TEST_CASE(tcp_server)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    for (int i = 0; i < 2; ++i)
    {
        const connection c = connect_once(acceptor, true);
        expect_fast_open(c, i);
        BOOST_TEST(c.client.opened_multipath);
        BOOST_TEST(!c.client.active);
        BOOST_TEST(c.client.fell_back());
        BOOST_TEST(c.client.subflows == 0u);
        BOOST_TEST(!c.server.opened_multipath);
        BOOST_TEST(c.counted.capable_syn_tx == 1u);
        BOOST_TEST(c.counted.capable_syn_rx == 0u);
        BOOST_TEST(c.counted.capable_fallback_syn_ack == 1u);
    }
}

// A TCP client and an MPTCP server: the accepted socket is TCP.
BOOST_AUTO_TEST_CASE(tcp_client)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16, true);
    for (int i = 0; i < 2; ++i)
    {
        const connection c = connect_once(acceptor, false);
        expect_fast_open(c, i);
        BOOST_TEST(!c.client.opened_multipath);
        BOOST_TEST(!c.server.opened_multipath);
        BOOST_TEST(!c.server.fell_back()); // never MPTCP: accepted as TCP
        BOOST_TEST(c.counted.capable_syn_tx == 0u);
        BOOST_TEST(c.counted.capable_syn_rx == 0u);
    }
}

// The endpoint-sequence connect reopens the socket for each further endpoint,
// here after a refusal and across families: it stays MPTCP, as the SYN
// counter (one MPTCP SYN per attempt) and the connection say.
BOOST_AUTO_TEST_CASE(sequence_reopens_as_multipath)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16, true);
    for (const tcp& refused_protocol : {tcp::v4(), tcp::v6()})
    {
        const std::vector<tcp::endpoint> endpoints{tfo::test::closed_port(io, refused_protocol),
                                                   acceptor.local_endpoint()};
        const auto before = tfo::kernel_multipath_counters();
        tcp::socket client(io);
        BOOST_REQUIRE(tfo::open_multipath(client, refused_protocol).multipath);
        tfo::test::sink server{acceptor};
        server.start();
        boost::system::error_code result;
        tcp::endpoint connected;
        tfo::multipath_info info;
        tfo::async_fastopen_connect(client, endpoints, asio::buffer(request),
                                    [&](boost::system::error_code ec, tcp::endpoint e, std::size_t) {
                                        result = ec;
                                        connected = e;
                                        info = tfo::get_multipath_info(client);
                                        client.shutdown(tcp::socket::shutdown_send, ec);
                                    });
        io.restart();
        io.run();
        BOOST_TEST(!result, result.message());
        BOOST_TEST((connected == acceptor.local_endpoint()));
        BOOST_TEST(server.received == request);
        BOOST_TEST(info.opened_multipath);
        BOOST_TEST(info.active);
        BOOST_TEST(tfo::get_multipath_info(*server.socket).active);
        const auto counted = tfo::kernel_multipath_counters() - before;
        BOOST_TEST(counted.capable_syn_tx == 2u); // the refused attempt and the reopened one
        BOOST_TEST(counted.capable_syn_rx == 1u);
    }
}

// The stream reopens in the same way, the synchronous form included.
BOOST_AUTO_TEST_CASE(stream_reopens_as_multipath)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16, true);
    const std::vector<tcp::endpoint> endpoints{tfo::test::closed_port(io, tcp::v6()), acceptor.local_endpoint()};
    for (bool synchronous : {false, true})
    {
        const auto before = tfo::kernel_multipath_counters();
        tfo::fast_open_stream stream(io.get_executor(), endpoints);
        BOOST_REQUIRE(tfo::open_multipath(stream, tcp::v6()).multipath);
        tfo::test::sink server{acceptor};
        server.start();
        if (synchronous)
        {
            asio::write(stream, asio::buffer(request));
        }
        else
        {
            completion c;
            asio::async_write(stream, asio::buffer(request), record(c));
            run_until(io, [&] { return c.done; });
            BOOST_TEST(!c.ec, c.ec.message());
        }
        const auto info = tfo::get_multipath_info(stream);
        BOOST_TEST(info.active);
        BOOST_TEST(info.subflows == 1u);
        stream.next_layer().shutdown(tcp::socket::shutdown_send);
        io.restart();
        io.run();
        BOOST_TEST(server.received == request);
        BOOST_TEST((tfo::kernel_multipath_counters() - before).capable_syn_tx == 2u);
    }
}

BOOST_FIXTURE_TEST_CASE(cancel_a_pending_connect, unanswered_multipath)
{
    asio::cancellation_signal signal;
    completion c;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                asio::bind_cancellation_slot(signal.slot(), record(c)));
    asio::steady_timer timer(io, 100ms);
    timer.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
    run_until(io, [&] { return c.done; });
    BOOST_TEST((c.ec == asio::error::operation_aborted), c.ec.message());
    BOOST_TEST(c.seconds < 2.0);
    expect_syns_dropped();
}

BOOST_FIXTURE_TEST_CASE(stream_timeout, unanswered_multipath)
{
    tfo::fast_open_stream stream(io.get_executor(), acceptor.local_endpoint());
    stream.next_layer() = std::move(client);
    BOOST_REQUIRE(tfo::get_multipath_info(stream).opened_multipath);
    stream.expires_after(300ms);
    completion c;
    stream.async_write_some(asio::buffer(request), record(c));
    run_until(io, [&] { return c.done; });
    BOOST_TEST((c.ec == asio::error::timed_out), c.ec.message());
    BOOST_TEST(c.seconds >= 0.25);
    BOOST_TEST(c.seconds < 2.0);
    expect_syns_dropped();
}

BOOST_AUTO_TEST_SUITE_END() // multipath

// Two hosts joined by two links. The server's service address (on its `lo`)
// is reached over link 1, or over link 2 when link 1 is gone; the client's
// path manager adds a subflow on link 2. A transfer starts, link 1 is cut
// (both ends deleted) once part of it has arrived, and the rest must arrive.
namespace {

constexpr std::size_t transfer_size = 48u << 20;
constexpr std::size_t cut_after = 4u << 20;
const std::string service_address = "10.21.0.1";

// Byte `p` of the transfer: consecutive 32-bit counters, so that a lost,
// repeated or misplaced byte shows wherever it is.
std::uint8_t pattern(std::size_t p)
{
    return static_cast<std::uint8_t>((p / 4) >> (8 * (p % 4)));
}

struct two_links
{
    linked_netns hosts{2};
    unsigned short port = 0;

    two_links()
    {
        const std::string limits = "ip mptcp limits set subflows 2 add_addr_accepted 2";
        BOOST_REQUIRE(hosts.run_in_server("ip addr add " + service_address + "/32 dev lo && " + limits) == 0);
        BOOST_REQUIRE(hosts.run_in_client(
                          limits + " && ip mptcp endpoint add " + linked_netns::client_address(2) + " dev " +
                          linked_netns::client_device(2) + " subflow" + " && ip route add " + service_address +
                          "/32 via " + linked_netns::server_address(1) + " metric 1 && ip route add " +
                          service_address + "/32 via " + linked_netns::server_address(2) + " metric 2") == 0);
    }

    // The TCP_INFO of a socket, for its retransmissions.
    static tfo::detail::tcp_info_connect tcp_info(tcp::socket& s)
    {
        tfo::detail::tcp_info_connect info{};
        socklen_t size = sizeof info;
        ::getsockopt(s.native_handle(), IPPROTO_TCP, tfo::detail::tcp_info_option, &info, &size);
        return info;
    }
};

struct transfer_result
{
    std::size_t received = 0;
    std::size_t first_wrong = transfer_size; // where the content first differs, if anywhere
    bool eof = false;
    double seconds_after_cut = 0;
    tfo::multipath_info client_before_cut, client, server;
    tfo::multipath_counters client_counted, server_counted;
    tfo::detail::tcp_info_connect server_tcp{}; // the sender's TCP_INFO at the end
    int server_queued = 0;                     // bytes the sender holds, unsent or unacknowledged
};

// The server (opened in its namespace) sends `transfer_size` bytes and closes;
// the client reads them, cutting link 1 after `cut_after`, and stops at the
// end, or `patience` after the cut.
transfer_result transfer_across_a_cut(two_links& net, bool multipath, std::chrono::seconds patience)
{
    asio::io_context io;
    const tcp::endpoint service(asio::ip::make_address(service_address), 8021);

    net.hosts.enter_server();
    const auto server_before = tfo::kernel_multipath_counters();
    tcp::acceptor acceptor(io);
    if (multipath)
        BOOST_REQUIRE(tfo::open_multipath(acceptor, tcp::v4()).multipath);
    else
        acceptor.open(tcp::v4());
    acceptor.set_option(tfo::fast_open{16});
    acceptor.bind(service);
    acceptor.listen();

    net.hosts.enter_client();
    const auto client_before = tfo::kernel_multipath_counters();
    tcp::socket client(io);
    if (multipath)
        BOOST_REQUIRE(tfo::open_multipath(client, tcp::v4()).multipath);

    std::vector<std::uint8_t> data(transfer_size);
    for (std::size_t p = 0; p < data.size(); ++p)
        data[p] = pattern(p);
    std::optional<tcp::socket> server;
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket s) {
        BOOST_REQUIRE_MESSAGE(!ec, "accept: " << ec.message());
        server.emplace(std::move(s));
    });

    transfer_result r;
    completion connected;
    tfo::async_fastopen_connect(client, service, asio::buffer(request), record(connected));
    run_until(io, [&] { return connected.done && server.has_value(); });
    BOOST_REQUIRE_MESSAGE(!connected.ec, connected.ec.message());

    // The second subflow joins before the transfer starts.
    if (multipath)
        run_until(io, [&] { return tfo::get_multipath_info(client).subflows == 2; }, std::chrono::seconds(10));

    asio::async_write(*server, asio::buffer(data), [&](boost::system::error_code ec, std::size_t) {
        if (!ec)
            server->shutdown(tcp::socket::shutdown_send, ec);
    });

    std::array<std::uint8_t, 65536> space;
    std::optional<std::chrono::steady_clock::time_point> cut_at;
    bool reading = true;
    std::function<void()> read = [&] {
        client.async_read_some(asio::buffer(space), [&](boost::system::error_code ec, std::size_t n) {
            for (std::size_t i = 0; i < n && r.first_wrong == transfer_size; ++i)
                if (r.received + i >= transfer_size || space[i] != pattern(r.received + i))
                    r.first_wrong = r.received + i;
            r.received += n;
            if (!cut_at && r.received >= cut_after)
            {
                r.client_before_cut = tfo::get_multipath_info(client);
                net.hosts.cut(1);
                cut_at = std::chrono::steady_clock::now();
            }
            if (ec)
            {
                r.eof = ec == asio::error::eof;
                reading = false;
                return;
            }
            read();
        });
    };
    read();
    io.restart();
    for (;;)
    {
        io.run_for(20ms);
        if (!reading || (cut_at && std::chrono::steady_clock::now() - *cut_at > patience))
            break;
    }
    r.seconds_after_cut = cut_at ? tfo::test::seconds_since(*cut_at) : 0;
    r.client = tfo::get_multipath_info(client);
    r.server = tfo::get_multipath_info(*server);
    r.server_tcp = two_links::tcp_info(*server);
    ::ioctl(server->native_handle(), SIOCOUTQ, &r.server_queued);
    r.client_counted = tfo::kernel_multipath_counters() - client_before;
    net.hosts.enter_server();
    r.server_counted = tfo::kernel_multipath_counters() - server_before;
    net.hosts.enter_client();
    // Nothing is left pending on the io_context: its sockets close with it.
    client.close();
    server->close();
    acceptor.close();
    io.run_for(100ms);
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(two_paths, *ut::precondition(tfo::test::netns_available) * ut::timeout(120))

BOOST_AUTO_TEST_CASE(multipath_outlives_a_cut_link)
{
    two_links net;
    const transfer_result r = transfer_across_a_cut(net, true, std::chrono::seconds(40));
    // Two subflows when the link went, one of them over it.
    BOOST_TEST(r.client_before_cut.subflows == 2u);
    BOOST_TEST(r.client_counted.join_syn_tx >= 1u);
    BOOST_TEST(r.client_counted.join_syn_ack_rx >= 1u);
    BOOST_TEST(r.server_counted.join_syn_rx >= 1u);
    BOOST_TEST(r.server_counted.join_ack_rx >= 1u);
    // Every byte, exactly once, in order, then the end.
    BOOST_TEST(r.received == transfer_size);
    BOOST_TEST(r.first_wrong == transfer_size, "the content first differs at byte " << r.first_wrong);
    BOOST_TEST(r.eof);
    BOOST_TEST(r.client.active);
    BOOST_TEST(r.server.active);
    // The sender sent again what the cut link had taken.
    BOOST_TEST(r.server_counted.retransmits >= 1u);
    if (tfo::test::kernel_at_least(6, 6))
        BOOST_TEST(r.server.bytes_retransmitted >= 1u);
    BOOST_TEST_MESSAGE("MPTCP: all " << r.received << " bytes " << r.seconds_after_cut
                                     << " s after the cut; server retransmitted " << r.server.bytes_retransmitted
                                     << " bytes at the MPTCP level, stale subflows " << r.server_counted.subflow_stale
                                     << ", MPTCP retransmissions " << r.server_counted.retransmits);
}

// The control: the same transfer over TCP, the same cut. It stalls: what the
// cut link carried never arrives while the sender's kernel retransmits.
BOOST_AUTO_TEST_CASE(tcp_stalls_on_a_cut_link)
{
    two_links net;
    const transfer_result r = transfer_across_a_cut(net, false, std::chrono::seconds(5));
    BOOST_TEST(r.received >= cut_after);
    BOOST_TEST(r.received < transfer_size);
    BOOST_TEST(!r.eof);
    BOOST_TEST(r.first_wrong == transfer_size, "what arrived is right as far as it goes");
    BOOST_TEST(r.seconds_after_cut >= 5.0);
    // The sender's kernel: still established, holding data it cannot get
    // across, and backing off its timer (the retransmission timer when
    // segments were in flight at the cut, the probe timer when the route was
    // gone before they left: there is no route over the cut link).
    BOOST_TEST(r.server_tcp.prefix.state == tfo::detail::tcp_state_established);
    BOOST_TEST(r.server_queued >= 1);
    BOOST_TEST(r.server_tcp.prefix.backoff >= 1u);
    BOOST_TEST(!r.client.opened_multipath);
    BOOST_TEST_MESSAGE("TCP: " << r.received << " of " << transfer_size << " bytes " << r.seconds_after_cut
                               << " s after the cut; the sender holds " << r.server_queued << " bytes, "
                               << int(r.server_tcp.prefix.retransmits) << " timeouts, backoff "
                               << int(r.server_tcp.prefix.backoff));
}

BOOST_AUTO_TEST_SUITE_END() // two_paths

BOOST_AUTO_TEST_SUITE_END() // netns_multipath
