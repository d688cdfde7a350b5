//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Faults and hostile peers, in private network namespaces: a full Fast Open
// queue, resets, a server that closes early, a listener closed mid-burst, and
// a forged cookie. Each client must get a clear result, nothing may hang, and
// no data may be lost or delivered where it must not be.

#include <tfo/async_fastopen_connect.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/fast_open_info.hpp>
#include <tfo/system.hpp>

#include "echo_server.hpp"
#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <set>
#include <thread>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_faults)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using tfo::netns::private_netns;

namespace {

const std::string request = "GET /fault HTTP/1.1\r\n\r\n";

struct client
{
    explicit client(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::string sent, echo;
    boost::system::error_code connect_error, read_error;
    bool done = false;
};

// Sends, then half-closes and reads the echo to the end.
void send_and_read_echo(const std::shared_ptr<client>& c, const tcp::endpoint& server)
{
    tfo::async_fastopen_connect(c->socket, server, asio::buffer(c->sent),
                                [c](boost::system::error_code ec, std::size_t) {
                                    c->connect_error = ec;
                                    if (ec)
                                    {
                                        c->done = true;
                                        return;
                                    }
                                    c->socket.shutdown(tcp::socket::shutdown_send, ec);
                                    asio::async_read(c->socket, asio::dynamic_buffer(c->echo),
                                                     [c](boost::system::error_code ec, std::size_t) {
                                                         c->read_error = ec;
                                                         c->done = true;
                                                     });
                                });
}

// Runs handlers until `done()` holds or `limit` passes; servers keep the
// context busy, so run() alone would not return.
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::seconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end)
        io.run_one_for(std::chrono::milliseconds(100));
    return done();
}

// Waits, without an event loop, until `condition` holds or `limit` passes.
bool wait_for(const std::function<bool()>& condition, std::chrono::seconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!condition() && std::chrono::steady_clock::now() < end)
        std::this_thread::yield();
    return condition();
}

bool all_done(const std::vector<std::shared_ptr<client>>& clients)
{
    return std::all_of(clients.begin(), clients.end(), [](const auto& c) { return c->done; });
}

bool is_reset_like(const boost::system::error_code& ec)
{
    return ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_refused;
}

// The Internet checksum over `data`, continuing from `sum`.
std::uint32_t checksum_add(std::uint32_t sum, const void* data, std::size_t len)
{
    auto p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i + 1 < len; i += 2)
        sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (len % 2)
        sum += static_cast<std::uint32_t>(p[len - 1] << 8);
    return sum;
}

std::uint16_t checksum_fold(std::uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// Sends one hand-made IPv4 SYN from 127.0.0.1:`from` to 127.0.0.1:`to`
// carrying a Fast Open option with `cookie` and `data`.
void send_forged_syn(unsigned short from, unsigned short to, const std::array<unsigned char, 8>& cookie,
                     const std::string& data)
{
    int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    BOOST_REQUIRE_MESSAGE(fd >= 0, "raw socket: " << std::strerror(errno));

    // TCP options: MSS (4 bytes), Fast Open kind 34 with an 8-byte cookie (10), 2 NOPs: 16 bytes.
    std::array<unsigned char, 16> options{2, 4, 0x05, 0xb4, 34, 10};
    std::copy(cookie.begin(), cookie.end(), options.begin() + 6);
    options[14] = options[15] = 1;

    std::vector<unsigned char> packet(sizeof(iphdr) + sizeof(tcphdr) + options.size() + data.size());
    auto* ip = reinterpret_cast<iphdr*>(packet.data());
    auto* th = reinterpret_cast<tcphdr*>(packet.data() + sizeof(iphdr));
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_TCP;
    ip->tot_len = htons(static_cast<std::uint16_t>(packet.size()));
    ip->saddr = ip->daddr = htonl(INADDR_LOOPBACK);
    th->source = htons(from);
    th->dest = htons(to);
    th->seq = htonl(12345);
    th->doff = static_cast<std::uint16_t>((sizeof(tcphdr) + options.size()) / 4);
    th->syn = 1;
    th->window = htons(65535);
    std::memcpy(packet.data() + sizeof(iphdr) + sizeof(tcphdr), options.data(), options.size());
    std::memcpy(packet.data() + sizeof(iphdr) + sizeof(tcphdr) + options.size(), data.data(), data.size());

    const std::size_t tcp_len = packet.size() - sizeof(iphdr);
    const std::uint8_t pseudo[12] = {127, 0, 0, 1, 127, 0, 0, 1, 0, IPPROTO_TCP,
                                     static_cast<std::uint8_t>(tcp_len >> 8), static_cast<std::uint8_t>(tcp_len)};
    std::uint32_t sum = checksum_add(0, pseudo, sizeof pseudo);
    sum = checksum_add(sum, th, tcp_len);
    th->check = htons(checksum_fold(sum));

    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const ssize_t n = ::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    const int err = errno;
    ::close(fd);
    BOOST_REQUIRE_MESSAGE(n == static_cast<ssize_t>(packet.size()), "raw sendto: " << std::strerror(err));
}

} // namespace

BOOST_AUTO_TEST_SUITE(faults, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

// A listener with a Fast Open queue of one, held full by a connection whose
// handshake cannot finish (its final ACK is dropped): a burst of fast-open
// clients overflows it, the kernel falls back to full handshakes, and every
// connection still delivers all its data.
BOOST_AUTO_TEST_CASE(pending_queue_overflow_falls_back_without_loss)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 1);
    tfo::test::echo_stats stats;
    tfo::test::start_echo_server(acceptor, stats);
    const auto server = acceptor.local_endpoint();
    tfo::test::raw_connect_once(io, acceptor, request); // a cookie for 127.0.0.1
    io.restart();

    auto held = std::make_shared<client>(io);
    held->socket.open(tcp::v4());
    held->socket.bind({asio::ip::address_v4::loopback(), 0});
    held->sent = request;
    // Pure ACKs from the held client never arrive; its FIN (with ACK) later completes the handshake.
    private_netns::nft("table ip tfo_hold { chain input { type filter hook input priority 0; tcp sport " +
                       std::to_string(held->socket.local_endpoint().port()) +
                       " tcp flags & (syn | ack | fin | rst) == ack drop; }; }");

    const auto before = tfo::kernel_counters();
    std::vector<std::shared_ptr<client>> burst;
    for (int i = 0; i < 20; ++i)
    {
        burst.push_back(std::make_shared<client>(io));
        burst.back()->sent = tfo::test::pattern(100 + 50 * i, i);
    }
    // The burst starts once the held connection occupies the queue.
    tfo::async_fastopen_connect(held->socket, server, asio::buffer(held->sent),
                                [&](boost::system::error_code ec, std::size_t) {
                                    BOOST_TEST(!ec, ec.message());
                                    for (auto& c : burst)
                                        send_and_read_echo(c, server);
                                    held->socket.shutdown(tcp::socket::shutdown_send, ec);
                                    asio::async_read(held->socket, asio::dynamic_buffer(held->echo),
                                                     [&](boost::system::error_code ec, std::size_t) {
                                                         held->read_error = ec;
                                                         held->done = true;
                                                     });
                                });
    BOOST_TEST(run_until(io, [&] { return held->done && all_done(burst); }, std::chrono::seconds(20)));
    const auto counted = tfo::kernel_counters() - before;

    BOOST_TEST_MESSAGE("queue overflow: ListenOverflow " << counted.listen_overflow << ", Passive " << counted.passive);
    BOOST_TEST(counted.listen_overflow >= 1u);
    BOOST_TEST(counted.passive >= 1u, "the held connection itself was fast-open");
    for (auto& c : burst)
    {
        BOOST_TEST(c->done);
        BOOST_TEST(!c->connect_error, c->connect_error.message());
        BOOST_TEST((c->read_error == asio::error::eof), c->read_error.message());
        BOOST_TEST((c->echo == c->sent));
    }
    BOOST_TEST(held->done);
    BOOST_TEST((held->echo == request));
}

// A fast-open client sends 8 MiB (more than the socket buffers hold) to a
// server that does `on_accept` to the connection; the client must end with a
// reset-like error, from the operation or from the read after it.
void expect_reset_when_server(const std::function<void(tcp::socket&)>& on_accept)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    tfo::test::raw_connect_once(io, acceptor, request);
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket s) {
        BOOST_REQUIRE(!ec);
        on_accept(s);
    });
    auto c = std::make_shared<client>(io);
    c->sent = tfo::test::pattern(8 << 20, 1);
    send_and_read_echo(c, acceptor.local_endpoint());
    io.restart();
    io.run_for(std::chrono::seconds(20));
    BOOST_TEST(c->done);
    BOOST_TEST((is_reset_like(c->connect_error) || is_reset_like(c->read_error)),
               "connect: " << c->connect_error.message() << ", read: " << c->read_error.message());
}

// The server resets the connection right after accepting it.
BOOST_AUTO_TEST_CASE(reset_after_the_handshake)
{
    expect_reset_when_server([](tcp::socket& s) {
        s.set_option(asio::socket_base::linger(true, 0)); // close() sends RST
        s.close();
    });
}

// The server closes without reading: the kernel answers the unread data with RST.
BOOST_AUTO_TEST_CASE(server_closes_before_reading)
{
    expect_reset_when_server([](tcp::socket& s) {
        BOOST_TEST(s.available() > 0u); // the SYN's data was there, unread
        s.close();
    });
}

// 200 fast-open clients; the listener closes after the first 50 are served.
// Each client ends in exactly one of three ways, and the kernel's counters
// account for every one:
// - served: the whole echo came back;
// - refused: its SYN came after the close, connect failed with
//   connection_refused and nothing was delivered;
// - reset unread: the listener took its SYN and data, but the connection was
//   still in the accept queue at the close; the kernel reset it and nothing
//   came back.
// Every client has the cookie, so every SYN that found the listener carried
// data: TCPFastOpenPassive counts the served and the reset ones.
BOOST_AUTO_TEST_CASE(listener_closed_mid_burst)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 256);
    tfo::test::echo_stats stats;
    tfo::test::start_echo_server(acceptor, stats);
    const auto server = acceptor.local_endpoint();
    tfo::test::raw_connect_once(io, acceptor, request);
    io.restart();

    const auto before = tfo::kernel_counters();
    std::vector<std::shared_ptr<client>> clients;
    for (int i = 0; i < 200; ++i)
    {
        clients.push_back(std::make_shared<client>(io));
        clients.back()->sent = tfo::test::pattern(1000 + 97 * i, 100 + i);
        send_and_read_echo(clients.back(), server);
    }
    asio::steady_timer poll_timer(io);
    std::function<void()> watch = [&] {
        if (stats.connections >= 50)
            return acceptor.close();
        poll_timer.expires_after(std::chrono::milliseconds(1));
        poll_timer.async_wait([&](boost::system::error_code) { watch(); });
    };
    watch();
    BOOST_TEST(run_until(io, [&] { return all_done(clients); }, std::chrono::seconds(30)), "no client hangs");
    const auto counted = tfo::kernel_counters() - before;

    std::size_t served = 0, refused = 0, reset_unread = 0;
    for (auto& c : clients)
    {
        if (!c->connect_error && c->read_error == asio::error::eof && c->echo == c->sent)
            ++served;
        else if (c->connect_error == asio::error::connection_refused && c->echo.empty())
            ++refused;
        else if ((is_reset_like(c->connect_error) || (!c->connect_error && is_reset_like(c->read_error))) &&
                 c->connect_error != asio::error::connection_refused && c->echo.empty())
            ++reset_unread;
        else
            BOOST_ERROR("a client ended neither served, refused nor reset: connect: "
                        << c->connect_error.message() << ", read: " << c->read_error.message() << ", echo "
                        << c->echo.size() << " of " << c->sent.size() << " bytes");
    }
    BOOST_TEST_MESSAGE("listener closed mid-burst: " << served << " served, " << refused << " refused, "
                                                      << reset_unread << " reset unread");
    BOOST_TEST(served >= 50u);
    BOOST_TEST(served == stats.connections.load());
    BOOST_TEST(counted.passive == served + reset_unread, "every SYN the listener took carried data");
    BOOST_TEST(counted.active == counted.passive);
    BOOST_TEST(counted.active_fail == 0u);
    BOOST_TEST(counted.passive_fail == 0u);
    BOOST_TEST(counted.listen_overflow == 0u);
}

// A SYN with a made-up cookie and data: the server refuses the cookie
// (TCPFastOpenPassiveFail) and creates no connection, so the data is never
// delivered; the handshake it offers instead is never completed.
BOOST_AUTO_TEST_CASE(forged_cookie_delivers_nothing)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    tfo::test::raw_connect_once(io, acceptor, request); // the server's key exists
    acceptor.non_blocking(true);

    const auto before = tfo::kernel_counters();
    send_forged_syn(45555, acceptor.local_endpoint().port(), {1, 2, 3, 4, 5, 6, 7, 8}, "forged request");
    // The listener counts the refused cookie while it handles the SYN; once
    // counted, the SYN has been handled and any connection would exist.
    BOOST_TEST(wait_for([&] { return (tfo::kernel_counters() - before).passive_fail > 0; }, std::chrono::seconds(10)));
    const auto counted = tfo::kernel_counters() - before;
    BOOST_TEST(counted.passive_fail == 1u);
    BOOST_TEST(counted.passive == 0u);
    boost::system::error_code ec;
    tcp::socket nothing(io);
    acceptor.accept(nothing, ec);
    BOOST_TEST((ec == asio::error::would_block), "no connection, so no data, reached the application");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_faults
