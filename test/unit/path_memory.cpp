//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::path_memory as a service, without a network: one per execution
// context, its clock, options, counters and states, and many threads at once.

#include <tfo/path_memory.hpp>
#include <tfo/detail/path_memory_access.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/detail/connect_steps.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <thread>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_path_memory)

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using tfo::detail::path_event;
using tfo::detail::path_event_kind;

namespace {

// A path memory that never reads the kernel, on a clock the test moves.
struct memory_on_a_test_clock
{
    asio::io_context io;
    tfo::path_memory& memory = asio::use_service<tfo::path_memory>(io);
    std::shared_ptr<std::atomic<tfo::path_memory::clock_type::time_point>> now =
        std::make_shared<std::atomic<tfo::path_memory::clock_type::time_point>>(
            tfo::path_memory::clock_type::time_point{} + 100h);
    const tcp::endpoint destination{asio::ip::make_address("192.0.2.1"), 443};

    memory_on_a_test_clock()
    {
        auto options = memory.options();
        options.seed_from_kernel = false;
        memory.set_options(options);
        tfo::detail::path_memory_access::set_clock(memory, [n = now] { return n->load(); });
    }

    void advance(std::chrono::milliseconds d) { now->store(now->load() + d); }

    void report(path_event_kind k)
    {
        path_event e;
        e.kind = k;
        tfo::detail::path_memory_access::report(memory, destination, e);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(one_per_execution_context)
{
    asio::io_context a;
    asio::io_context b;
    BOOST_TEST(&asio::use_service<tfo::path_memory>(a) == &asio::use_service<tfo::path_memory>(a));
    BOOST_TEST(&asio::use_service<tfo::path_memory>(a) != &asio::use_service<tfo::path_memory>(b));
    asio::thread_pool pool(1);
    BOOST_TEST(asio::has_service<tfo::path_memory>(pool) == false);
    asio::use_service<tfo::path_memory>(pool);
    BOOST_TEST(asio::has_service<tfo::path_memory>(pool));
    pool.join();
}

BOOST_FIXTURE_TEST_CASE(defaults_are_documented_values, memory_on_a_test_clock)
{
    const tfo::path_memory_options o;
    BOOST_TEST(o.enabled);
    BOOST_TEST(o.first_back_off.count() == 60'000);
    BOOST_TEST(o.max_back_off.count() == 86'400'000);
    BOOST_TEST(o.hedge);
    BOOST_TEST(o.seed_from_kernel);
    BOOST_TEST(o.kernel_read_interval.count() == 60'000);
    BOOST_TEST(o.max_destinations == 131'072u);
    const auto s = memory.state(destination);
    BOOST_TEST(s.fast_open, "nothing known: Fast Open");
    BOOST_TEST(!s.kernel_seeded);
}

BOOST_FIXTURE_TEST_CASE(back_off_on_the_injected_clock, memory_on_a_test_clock)
{
    BOOST_TEST(tfo::detail::path_memory_access::advise(memory, destination, true).fast_open);
    report(path_event_kind::syn_lost);
    auto s = memory.state(destination);
    BOOST_TEST(!s.fast_open);
    BOOST_TEST((s.reason == tfo::path_reason::syn_lost));
    BOOST_TEST((s.off_until == now->load() + 1min));
    BOOST_TEST(!tfo::detail::path_memory_access::advise(memory, destination, true).fast_open);
    BOOST_TEST(!memory.use_deferred_connect(destination), "the option path asks the same memory");

    const tcp::endpoint other_port{destination.address(), 80};
    BOOST_TEST(tfo::detail::path_memory_access::advise(memory, other_port, true).fast_open, "keyed by port too");

    advance(1min);
    const auto probe = tfo::detail::path_memory_access::advise(memory, destination, true);
    BOOST_TEST(probe.fast_open);
    BOOST_TEST(probe.probe);
    report(path_event_kind::fast_open_acked);
    s = memory.state(destination);
    BOOST_TEST(s.fast_open);
    BOOST_TEST(s.losses == 0u);
    BOOST_TEST(s.confirmed);

    const auto c = memory.counters();
    BOOST_TEST(c.attempts == 5u);
    BOOST_TEST(c.plain == 2u);
    BOOST_TEST(c.probes == 1u);
    BOOST_TEST(c.losses == 1u);
    BOOST_TEST(c.successes == 1u);
}

BOOST_FIXTURE_TEST_CASE(options_change_the_back_off, memory_on_a_test_clock)
{
    auto o = memory.options();
    o.first_back_off = 5s;
    memory.set_options(o);
    tfo::detail::path_memory_access::advise(memory, destination, true);
    report(path_event_kind::syn_lost);
    advance(5s);
    BOOST_TEST(tfo::detail::path_memory_access::advise(memory, destination, true).probe);
}

BOOST_FIXTURE_TEST_CASE(disabled_is_the_kernel_alone, memory_on_a_test_clock)
{
    auto o = memory.options();
    o.enabled = false;
    memory.set_options(o);
    report(path_event_kind::syn_lost);
    const auto a = tfo::detail::path_memory_access::advise(memory, destination, true);
    BOOST_TEST(a.fast_open);
    BOOST_TEST(a.hedge_delay_us == 0u);
    BOOST_TEST(memory.counters().attempts == 0u);
}

BOOST_FIXTURE_TEST_CASE(forget_and_clear, memory_on_a_test_clock)
{
    report(path_event_kind::syn_lost);
    memory.forget(destination);
    BOOST_TEST(memory.state(destination).fast_open);
    report(path_event_kind::syn_lost);
    memory.clear();
    BOOST_TEST(memory.state(destination).losses == 0u);
}

// A round robin over more destinations than the bound: what has something
// against Fast Open is kept, the healthy destinations first remembered stay
// (no hedge there, pass after pass), and exactly the others are forgotten.
BOOST_FIXTURE_TEST_CASE(round_robin_beyond_the_bound, memory_on_a_test_clock)
{
    auto o = memory.options();
    o.max_destinations = 64; // a window of 4
    memory.set_options(o);
    const auto at = [&](unsigned short port) { return tcp::endpoint{destination.address(), port}; };
    const auto bad = [](unsigned short port) { return port % 10 == 0; };
    std::vector<std::size_t> unhedged(3);
    for (int pass = 0; pass < 3; ++pass)
        for (unsigned short port = 1; port <= 100; ++port)
        {
            const auto a = tfo::detail::path_memory_access::advise(memory, at(port), true);
            if (a.fast_open && a.hedge_delay_us == 0)
                ++unhedged[pass];
            path_event e;
            e.kind = pass == 0 && bad(port) ? path_event_kind::syn_lost
                     : a.fast_open         ? path_event_kind::fast_open_acked
                                           : path_event_kind::plain_answered;
            tfo::detail::path_memory_access::report(memory, at(port), e);
        }
    BOOST_TEST(memory.size() == 64u);
    for (unsigned short port = 10; port <= 100; port += 10)
        BOOST_TEST((memory.state(at(port)).reason == tfo::path_reason::syn_lost), "bad destination " << port);
    // Main: ports 5 to 64 less the 6 bad ones among them, and the 4 bad ones
    // above 64, which took the places of the first healthy ones the hand met
    // (5 to 8); the window: the last 4 healthy ports.
    std::size_t remembered = 0;
    for (unsigned short port = 1; port <= 100; ++port)
        remembered += memory.state(at(port)).confirmed ? 1 : 0;
    BOOST_TEST(remembered == 64u - 10u);
    BOOST_TEST(!memory.state(at(1)).confirmed, "made room for the window");
    BOOST_TEST(memory.state(at(64)).confirmed);
    BOOST_TEST(!memory.state(at(65)).confirmed, "seen once a pass: forgotten");
    BOOST_TEST(memory.state(at(99)).confirmed, "in the window");
    BOOST_TEST(unhedged[1] == unhedged[2], "the same pass after pass: nothing thrashes");
    BOOST_TEST(unhedged[2] >= 64u - 4u - 10u);
}

// Many threads, more destinations than the bound: records come and go (the
// window, main, the address cache) under the lock while others advise,
// report and read states; the bound holds.
BOOST_FIXTURE_TEST_CASE(many_threads_beyond_the_bound, memory_on_a_test_clock)
{
    auto o = memory.options();
    o.max_destinations = 300;
    memory.set_options(o);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3000; ++i)
            {
                const tcp::endpoint d{asio::ip::address_v4(static_cast<asio::ip::address_v4::uint_type>(
                                          0x0a000000 + static_cast<unsigned>((i * 7 + t) % 1000))),
                                      static_cast<unsigned short>(443 + i % 3)};
                const auto a = tfo::detail::path_memory_access::advise(memory, d, true);
                path_event e;
                e.kind = i % 11 == 0 ? path_event_kind::syn_lost : path_event_kind::fast_open_acked;
                e.rtt_us = 1000 + static_cast<std::uint32_t>(i);
                e.record = a.record;
                tfo::detail::path_memory_access::report(memory, d, e);
                (void)memory.state(d);
            }
        });
    for (auto& t : threads)
        t.join();
    BOOST_TEST(memory.size() == 300u);
    BOOST_TEST(memory.counters().attempts == 12'000u);
}

// The lock under contention: more threads than cores on one destination, so
// that holders are preempted and waiters sleep on the lock word. Every
// advice and every report counts once (a lost wake-up would hang here, a
// lost exclusion would lose counts), and the record ends consistent.
BOOST_FIXTURE_TEST_CASE(one_destination_contended, memory_on_a_test_clock)
{
    constexpr int threads_n = 8;
    constexpr int rounds = 20'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < rounds; ++i)
            {
                const auto a = tfo::detail::path_memory_access::advise(memory, destination, true);
                path_event e;
                e.kind = path_event_kind::fast_open_acked;
                e.rtt_us = 2000;
                e.record = a.record;
                tfo::detail::path_memory_access::report(memory, destination, e);
            }
        });
    for (auto& t : threads)
        t.join();
    const auto c = memory.counters();
    BOOST_TEST(c.attempts == std::uint64_t{threads_n} * rounds);
    BOOST_TEST(c.successes == std::uint64_t{threads_n} * rounds);
    BOOST_TEST(memory.size() == 1u);
    BOOST_TEST(memory.state(destination).confirmed);
}

// A new port of an address the process knows starts with that address's
// round-trip time (the hedge delay is 3 RTT), not the default delay.
BOOST_FIXTURE_TEST_CASE(new_port_of_a_known_address, memory_on_a_test_clock)
{
    tfo::detail::path_memory_access::advise(memory, destination, true);
    path_event e;
    e.kind = path_event_kind::fast_open_acked;
    e.rtt_us = 30'000;
    tfo::detail::path_memory_access::report(memory, destination, e);
    const auto a = tfo::detail::path_memory_access::advise(memory, {destination.address(), 8443}, true);
    BOOST_TEST(a.hedge_delay_us == 90'000u);
    BOOST_TEST(memory.state({destination.address(), 8443}).rtt.count() == 30'000);
    const auto other = tfo::detail::path_memory_access::advise(memory, {asio::ip::make_address("192.0.2.2"), 443}, true);
    BOOST_TEST(other.hedge_delay_us == 250'000u, "another address: the default delay");
}

// A smaller bound drops records at once; a larger one keeps them all.
BOOST_FIXTURE_TEST_CASE(bound_changed_while_full, memory_on_a_test_clock)
{
    for (unsigned short port = 1; port <= 50; ++port)
    {
        tfo::detail::path_memory_access::advise(memory, {destination.address(), port}, true);
        path_event e;
        e.kind = port == 7 ? path_event_kind::syn_lost : path_event_kind::fast_open_acked;
        tfo::detail::path_memory_access::report(memory, {destination.address(), port}, e);
    }
    BOOST_TEST(memory.size() == 50u);
    auto o = memory.options();
    o.max_destinations = 10;
    memory.set_options(o);
    BOOST_TEST(memory.size() == 10u);
    BOOST_TEST((memory.state({destination.address(), 7}).reason == tfo::path_reason::syn_lost), "kept");
    o.max_destinations = 0; // means 1
    memory.set_options(o);
    BOOST_TEST(memory.size() == 1u);
    BOOST_TEST(memory.state({destination.address(), 7}).losses == 1u, "the one kept is the bad one");
}

// What a destination costs: the records and their index, measured on the
// service itself, at most 96 bytes each once many are held.
BOOST_FIXTURE_TEST_CASE(memory_per_destination, memory_on_a_test_clock)
{
    const std::size_t empty = memory.memory_bytes();
    constexpr std::size_t n = 100'000;
    for (std::size_t i = 0; i < n; ++i)
    {
        const tcp::endpoint d{asio::ip::address_v4(static_cast<asio::ip::address_v4::uint_type>(0x0a000000 + i)), 443};
        tfo::detail::path_memory_access::advise(memory, d, true);
        path_event e;
        e.kind = path_event_kind::fast_open_acked;
        tfo::detail::path_memory_access::report(memory, d, e);
    }
    BOOST_TEST(memory.size() == n);
    const double per_destination = static_cast<double>(memory.memory_bytes() - empty) / n;
    BOOST_TEST_MESSAGE("path memory: " << per_destination << " bytes a destination at " << n);
    BOOST_TEST(per_destination <= 96.0);
    memory.clear();
    BOOST_TEST(memory.size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(many_threads_at_once, memory_on_a_test_clock)
{
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i)
            {
                const tcp::endpoint d{destination.address(), static_cast<unsigned short>(1000 + i % 7)};
                tfo::detail::path_memory_access::advise(memory, d, true);
                path_event e;
                e.kind = (i + t) % 3 ? path_event_kind::fast_open_acked : path_event_kind::syn_lost;
                tfo::detail::path_memory_access::report(memory, d, e);
                (void)memory.state(d);
                (void)memory.counters();
            }
        });
    for (auto& t : threads)
        t.join();
    const auto c = memory.counters();
    BOOST_TEST(c.attempts == 2000u);
    BOOST_TEST(c.successes + c.losses == 2000u);
}

BOOST_AUTO_TEST_CASE(reasons_in_words)
{
    BOOST_TEST(tfo::to_string(tfo::path_reason::syn_lost) == "SYN lost");
    BOOST_TEST(tfo::to_string(tfo::path_reason::kernel_syn_drops) == "SYN drops recorded by the kernel");
}

BOOST_AUTO_TEST_SUITE_END() // unit_path_memory
