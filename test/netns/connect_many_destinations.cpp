//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The path memory at scale: a client of a few thousand destinations (127.1.x.y
// in a private namespace, one listener on all of them), visited three times
// in a round robin. What the path memory costs is counted where the program
// meets the kernel: this file puts its own `socket` and `timerfd_settime` in
// front of the C library's, so every netlink socket opened (one per read of
// the kernel's tcp_metrics) and every change of the reactor's timer (a hedge
// armed or disarmed) is seen, whoever makes it. Data in the SYN is checked on
// the server's TCP_INFO and the namespace's TcpExt counters.

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/path_memory.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include <boost/test/unit_test.hpp>

#include "echo_server.hpp"
#include "netns.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <dlfcn.h>
#include <string>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <vector>

namespace {

// What the program asked of the kernel, counted at the C library's door.
std::atomic<std::uint64_t> netlink_sockets_opened{0};
std::atomic<std::uint64_t> timer_changes{0};

template <typename F>
F next_definition(const char* name)
{
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" int socket(int domain, int type, int protocol)
{
    static const auto next = next_definition<int (*)(int, int, int)>("socket");
    if (domain == AF_NETLINK)
        ++netlink_sockets_opened;
    return next(domain, type, protocol);
}

extern "C" int timerfd_settime(int fd, int flags, const itimerspec* value, itimerspec* old)
{
    static const auto next =
        next_definition<int (*)(int, int, const itimerspec*, itimerspec*)>("timerfd_settime");
    ++timer_changes;
    return next(fd, flags, value, old);
}

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_many_destinations)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;

namespace {

const std::string request = "GET / HTTP/1.1\r\nHost: many.test\r\n\r\n";

// The epoll reactor keeps its timers in a timerfd; Asio's io_uring backend
// submits them to the ring, where no call of ours sees them.
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
constexpr bool timers_counted = false;
#else
constexpr bool timers_counted = true;
#endif

// 127.1.0.1 and on: `n` distinct loopback addresses.
std::vector<tcp::endpoint> destinations(std::size_t n, unsigned short port)
{
    std::vector<tcp::endpoint> d;
    for (std::size_t i = 0; i < n; ++i)
        d.emplace_back(asio::ip::address_v4((127u << 24) | (1u << 16) | static_cast<unsigned>(i + 1)), port);
    return d;
}

// What one pass over every destination cost.
struct pass_cost
{
    std::uint64_t netlink_sockets = 0;
    std::uint64_t timer_changes = 0;
    std::uint64_t data_in_syn = 0; // the namespace's TCPFastOpenActive
    std::uint64_t echoed = 0;
};

// Visits every destination `passes` times in order: a fast-open connect
// carrying the request, the echo read to the end.
asio::awaitable<void> round_robin(const std::vector<tcp::endpoint>& to, int passes, std::vector<pass_cost>& costs,
                                  echo_stats& stats)
{
    auto executor = co_await asio::this_coro::executor;
    for (int pass = 0; pass < passes; ++pass)
    {
        // The reactor disarms a timer of the pass before only when it fires
        // (the last hedge timer, at most 500 ms after it was armed): that
        // change is not this pass's.
        asio::steady_timer settle(executor, std::chrono::milliseconds(600));
        co_await settle.async_wait(asio::use_awaitable);
        const auto netlink_before = netlink_sockets_opened.load();
        const auto timers_before = timer_changes.load();
        const auto counters_before = tfo::kernel_counters();
        const auto echoed_before = stats.connections.load();
        for (const auto& d : to)
        {
            tcp::socket s(executor);
            co_await tfo::async_fastopen_connect(s, d, asio::buffer(request), asio::use_awaitable);
            s.shutdown(tcp::socket::shutdown_send);
            std::string reply;
            auto [ec, n] =
                co_await asio::async_read(s, asio::dynamic_buffer(reply), asio::as_tuple(asio::use_awaitable));
            BOOST_TEST((ec == asio::error::eof), ec.message());
            BOOST_TEST(reply == request);
        }
        pass_cost c;
        c.netlink_sockets = netlink_sockets_opened.load() - netlink_before;
        c.timer_changes = timer_changes.load() - timers_before;
        c.data_in_syn = (tfo::kernel_counters() - counters_before).active;
        c.echoed = stats.connections.load() - echoed_before;
        costs.push_back(c);
    }
}

struct many_destinations
{
    private_netns ns{3};
    asio::io_context io;
    tcp::acceptor acceptor{io};
    echo_stats stats;

    many_destinations()
    {
        // One listener for all of 127/8: the namespace has only its loopback.
        acceptor.open(tcp::v4());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.set_option(tfo::fast_open{64});
        acceptor.bind({asio::ip::address_v4::any(), 0});
        acceptor.listen();
        port = acceptor.local_endpoint().port();
        start_echo_server(acceptor, stats);
    }

    unsigned short port = 0;

    std::vector<pass_cost> run(std::size_t n, int passes)
    {
        std::vector<pass_cost> costs;
        const auto to = destinations(n, port);
        asio::co_spawn(io, round_robin(to, passes, costs, stats), [&](std::exception_ptr e) {
            acceptor.close();
            if (e)
                std::rethrow_exception(e);
        });
        io.run_for(std::chrono::seconds(120));
        BOOST_TEST_REQUIRE(costs.size() == static_cast<std::size_t>(passes), "every pass finished in time");
        for (const auto& c : costs)
            BOOST_TEST_MESSAGE("pass: " << c.netlink_sockets << " netlink sockets, " << c.timer_changes
                                        << " timer changes, " << c.data_in_syn << " SYNs with data, " << c.echoed
                                        << " echoed");
        return costs;
    }
};

} // namespace

// Below the bound: one read of the kernel's table for every destination, no
// hedge timer once a destination's Fast Open is confirmed, every SYN of the
// later passes carrying its request.
BOOST_FIXTURE_TEST_CASE(round_robin_below_the_bound, many_destinations,
                        *ut::precondition(netns_available) * ut::timeout(240))
{
    constexpr std::size_t n = 2000;
    const auto costs = run(n, 3);
    for (const auto& c : costs)
        BOOST_TEST(c.echoed == n);

    BOOST_TEST(costs[0].netlink_sockets == 1u, "one read of the kernel's table, not one per destination");
    BOOST_TEST(costs[1].netlink_sockets == 0u);
    BOOST_TEST(costs[2].netlink_sockets == 0u);

    // Pass 1 asks for cookies; pass 2 carries data, hedged until it is
    // acknowledged; pass 3 is confirmed everywhere: no timer at all.
    BOOST_TEST(costs[1].data_in_syn == n);
    BOOST_TEST(costs[2].data_in_syn == n);
    if (timers_counted)
    {
        BOOST_TEST(costs[1].timer_changes > 0u, "the second pass arms hedges (the check can fail)");
        BOOST_TEST(costs[2].timer_changes == 0u, "no hedge timer for a confirmed destination");
    }
    BOOST_TEST(stats.with_data_in_syn.load() == 2 * n, "TCP_INFO of the accepted sockets");

    auto& memory = asio::use_service<tfo::path_memory>(io);
    BOOST_TEST(memory.size() == n);
    BOOST_TEST(memory.counters().kernel_reads == 1u);
    BOOST_TEST(memory.counters().hedges_started == 0u);
    BOOST_TEST(memory.memory_bytes() <= 2000 + 96 * n, "at most 96 bytes a destination, with the index");

    // forget() starts a destination afresh: the kernel's table is read again.
    const auto first = destinations(1, port).front();
    memory.forget(first);
    const auto netlink_before = netlink_sockets_opened.load();
    BOOST_TEST(memory.use_deferred_connect(first));
    BOOST_TEST(netlink_sockets_opened.load() - netlink_before == 1u);
    BOOST_TEST(memory.counters().kernel_reads == 2u);
    BOOST_TEST(memory.state(first).kernel_seeded);
}

// Above the bound (1000 destinations remembered, 2000 visited): the ones it
// first remembered stay confirmed, pass after pass; only the others pay a
// first contact's hedge timer again. Least-recently-used would forget each
// destination just before it came round again: every connect a first
// contact.
BOOST_FIXTURE_TEST_CASE(round_robin_above_the_bound, many_destinations,
                        *ut::precondition(netns_available) * ut::timeout(240))
{
    auto& memory = asio::use_service<tfo::path_memory>(io);
    auto o = memory.options();
    o.max_destinations = 1000;
    memory.set_options(o);
    constexpr std::size_t n = 2000;
    const auto costs = run(n, 4);
    BOOST_TEST(costs[3].netlink_sockets == 0u);
    BOOST_TEST(memory.size() == 1000u);
    // Exactly what it forgets. Once full, the first 1000/16 records made
    // room for the window; main keeps destinations 62 to 999 for good; the
    // window holds the last 62 visited; the others are gone.
    const std::size_t window = 1000 / 16;
    const auto all = destinations(n, port);
    for (std::size_t i = 0; i < n; ++i)
    {
        const auto s = memory.state(all[i]);
        const bool kept = (i >= window && i < 1000) || i >= n - window;
        BOOST_TEST(s.confirmed == kept, "destination " << i);
    }
    // A hedged connect changes the timer at most twice (armed, disarmed);
    // the remembered destinations are not hedged.
    if (timers_counted)
    {
        BOOST_TEST(costs[3].timer_changes > 0u);
        BOOST_TEST(costs[3].timer_changes <= 2 * (n - (1000 - window)));
    }
}

BOOST_AUTO_TEST_SUITE_END()
