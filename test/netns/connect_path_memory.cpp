//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The path memory against real middleboxes: nftables rules in the test's
// private namespace drop or reset SYNs, and every claim is checked on kernel
// evidence (TcpExt counters, TCP_INFO on both ends, tcp_metrics, the rules'
// own packet counters). The clock of the path memory is the test's; times of
// connections are asserted only as bounds far from the 1 s retransmission
// timeout. The hedge is off here (connect_hedge.cpp races it).

#include <tfo/path_memory.hpp>
#include <tfo/detail/path_memory_access.hpp>

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <atomic>
#include <cstdio>
#include <chrono>
#include <memory>
#include <string>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_path_memory)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// A Fast Open listener whose io_context's path memory runs on the test's
// clock, without the hedge.
struct remembered : fast_open_listener
{
    tfo::path_memory& memory = asio::use_service<tfo::path_memory>(io);
    std::shared_ptr<std::atomic<steady::time_point>> now =
        std::make_shared<std::atomic<steady::time_point>>(steady::now());

    explicit remembered(bool hedge = false)
    {
        auto o = memory.options();
        o.hedge = hedge;
        memory.set_options(o);
        tfo::detail::path_memory_access::set_clock(memory, [n = now] { return n->load(); });
    }

    void advance(std::chrono::milliseconds d) { now->store(now->load() + d); }

    tfo::destination_state state() const { return memory.state(acceptor.local_endpoint()); }
};

struct timed_outcome : outcome
{
    std::chrono::milliseconds took{};
};

timed_outcome timed_once(tcp::acceptor& acceptor, const std::string& data)
{
    const auto start = steady::now();
    timed_outcome o;
    static_cast<outcome&>(o) = fastopen_once(acceptor, data);
    o.took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
    return o;
}

// Counts the SYNs that leave with the Fast Open option, in a table of its own.
void count_fast_open_syns()
{
    private_netns::nft("table inet tfo_witness { chain output { type filter hook output priority 0; "
                       "tcp flags & (syn | ack) == syn tcp option fastopen exists counter; }; }");
}

std::uint64_t fast_open_syns_sent()
{
    std::FILE* p = ::popen("nft list table inet tfo_witness", "r");
    BOOST_REQUIRE(p != nullptr);
    std::string text;
    char chunk[256];
    while (std::size_t n = std::fread(chunk, 1, sizeof chunk, p))
        text.append(chunk, n);
    ::pclose(p);
    const auto at = text.find("packets ");
    BOOST_REQUIRE(at != std::string::npos);
    return std::stoull(text.substr(at + 8));
}

// A connection that lost its fast-open SYN to the middlebox: the kernel sent
// it again without data or option after its 1 s timeout.
void expect_lost_then_plain(const timed_outcome& o, const std::string& data)
{
    expect_delivered(o, data);
    BOOST_TEST(!o.client.syn_data_acked);
    BOOST_TEST(o.counted.active == 0u);
    BOOST_TEST((o.took >= 700ms), "the retransmission timeout was paid: " << o.took.count() << " ms");
}

// A plain connect: no Fast Open option in its SYN, fast, delivered.
void expect_plain(const timed_outcome& o, const std::string& data, std::uint64_t fast_open_syns_before)
{
    expect_delivered(o, data);
    expect_no_tfo(o);
    BOOST_TEST(o.counted.cookie_reqd == 0u, "no cookie request either");
    BOOST_TEST(o.counted.active_fail == 0u);
    BOOST_TEST((o.client.failure == tfo::client_failure::unspecified));
    BOOST_TEST(fast_open_syns_sent() == fast_open_syns_before, "no SYN with the Fast Open option left");
    BOOST_TEST((o.took < 300ms), "no retransmission: " << o.took.count() << " ms");
}

} // namespace

BOOST_AUTO_TEST_SUITE(path_memory, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

// (f) A healthy path: Fast Open on every repeat connection, no hedge started,
// the kernel's counters exactly as without the path memory.
BOOST_FIXTURE_TEST_CASE(healthy_path_is_unchanged, remembered)
{
    auto& m = asio::use_service<tfo::path_memory>(io);
    auto o = m.options();
    o.hedge = true; // armed until the first success, never started on loopback
    m.set_options(o);
    fastopen_once(acceptor, request); // the cookie
    for (int i = 0; i < 5; ++i)
    {
        auto c = timed_once(acceptor, request);
        expect_delivered(c, request);
        expect_data_in_syn(c, request.size());
        BOOST_TEST(c.counted.active_fail == 0u);
    }
    const auto s = state();
    BOOST_TEST(s.fast_open);
    BOOST_TEST(s.confirmed);
    BOOST_TEST(s.successes == 5u);
    BOOST_TEST(s.losses == 0u);
    BOOST_TEST(s.rtt.count() > 0, "a round-trip sample from TCP_INFO");
    const auto c = m.counters();
    BOOST_TEST(c.attempts == 6u);
    BOOST_TEST(c.plain == 0u);
    BOOST_TEST(c.hedges_started == 0u);
    BOOST_TEST(c.successes == 5u);
    BOOST_TEST(c.losses == 0u);
    BOOST_TEST(c.kernel_reads == 1u, "the kernel's record is read once per destination");
}

// (a) SYNs with data dropped: one connection pays the timeout, the next ones
// are plain and fast, with no Fast Open option in their SYNs.
BOOST_FIXTURE_TEST_CASE(syns_with_data_dropped, remembered)
{
    fastopen_once(acceptor, request); // the cookie
    drop_syns_with_data();
    count_fast_open_syns();

    auto first = timed_once(acceptor, request);
    expect_lost_then_plain(first, request);
    BOOST_TEST((first.client.failure == tfo::client_failure::syn_retransmitted));
    BOOST_TEST(first.counted.active_fail == 1u);
    auto s = state();
    BOOST_TEST(!s.fast_open);
    BOOST_TEST((s.reason == tfo::path_reason::syn_lost));
    BOOST_TEST(s.losses == 1u);
    BOOST_TEST((s.off_until == now->load() + 1min), "the documented first back-off");

    for (int i = 0; i < 3; ++i)
    {
        const auto before = fast_open_syns_sent();
        expect_plain(timed_once(acceptor, request), request, before);
    }
    BOOST_TEST(memory.counters().plain == 3u);
    BOOST_TEST(tfo::read_kernel_path_record(acceptor.local_endpoint().address()).syn_drops == 1u,
               "the kernel saw the same drop");
}

// (b) Every SYN with the Fast Open option dropped, from the first cookie request on.
BOOST_FIXTURE_TEST_CASE(fast_open_syns_dropped, remembered)
{
    drop_fast_open_syns();
    count_fast_open_syns();
    auto first = timed_once(acceptor, request);
    expect_lost_then_plain(first, request);
    BOOST_TEST((first.client.failure == tfo::client_failure::cookie_unavailable),
               "a cookie request: its loss shows only as a retransmission");
    BOOST_TEST(!state().fast_open);
    BOOST_TEST(state().losses == 1u);
    for (int i = 0; i < 3; ++i)
    {
        const auto before = fast_open_syns_sent();
        expect_plain(timed_once(acceptor, request), request, before);
    }
    BOOST_TEST(private_netns::run("nft list table inet tfo_middlebox | grep -q 'packets 1 '") == 0,
               "the rule dropped exactly one SYN");
}

// (d) The rule removed: the back-off holds until the (injected) clock passes
// it, then one probe with Fast Open succeeds and Fast Open resumes at once.
BOOST_FIXTURE_TEST_CASE(fast_open_resumes_after_the_back_off, remembered)
{
    fastopen_once(acceptor, request);
    drop_syns_with_data();
    count_fast_open_syns();
    expect_lost_then_plain(timed_once(acceptor, request), request);
    private_netns::nft("delete table ip tfo_middlebox");

    auto before = fast_open_syns_sent();
    expect_plain(timed_once(acceptor, request), request, before);
    advance(59s);
    before = fast_open_syns_sent();
    expect_plain(timed_once(acceptor, request), request, before);

    advance(1s);
    BOOST_TEST(state().probing);
    auto probe = timed_once(acceptor, request);
    expect_delivered(probe, request);
    expect_data_in_syn(probe, request.size()); // TCPFastOpenActive +1, TCP_INFO on both ends
    BOOST_TEST(memory.counters().probes == 1u);
    auto s = state();
    BOOST_TEST(s.fast_open);
    BOOST_TEST(!s.probing);
    BOOST_TEST(s.losses == 0u);

    auto next = timed_once(acceptor, request);
    expect_data_in_syn(next, request.size());
    BOOST_TEST(memory.counters().probes == 1u, "no second probe: resumed");
}

// (d) A probe that loses again doubles the back-off.
BOOST_FIXTURE_TEST_CASE(a_failed_probe_doubles_the_back_off, remembered)
{
    fastopen_once(acceptor, request);
    drop_syns_with_data();
    count_fast_open_syns();
    expect_lost_then_plain(timed_once(acceptor, request), request);
    advance(1min);
    expect_lost_then_plain(timed_once(acceptor, request), request);
    auto s = state();
    BOOST_TEST(s.losses == 2u);
    BOOST_TEST((s.off_until == now->load() + 2min));
    const auto before = fast_open_syns_sent();
    expect_plain(timed_once(acceptor, request), request, before);
}

// (e) Plain SYNs are lost too (every other SYN dropped, Fast Open or not):
// the path, not Fast Open, is to blame, and Fast Open resumes.
BOOST_FIXTURE_TEST_CASE(plain_syns_lost_too, remembered)
{
    fastopen_once(acceptor, request);
    private_netns::nft("table inet tfo_lossy { chain input { type filter hook input priority 0; "
                       "tcp flags & (syn | ack) == syn numgen inc mod 2 == 0 counter drop; }; }");
    expect_lost_then_plain(timed_once(acceptor, request), request);
    BOOST_TEST(!state().fast_open);

    auto plain = timed_once(acceptor, request);
    expect_delivered(plain, request);
    expect_no_tfo(plain);
    BOOST_TEST((plain.took >= 700ms), "the plain SYN was lost too");
    auto s = state();
    BOOST_TEST(s.fast_open, "not blamed forever");
    BOOST_TEST(s.losses == 0u);

    auto again = timed_once(acceptor, request);
    expect_delivered(again, request);
    BOOST_TEST(again.counted.active_fail == 1u, "Fast Open was tried again (and lost its SYN again)");
}

// (c) A reset in answer to SYN data, where connections were accepted before:
// retried once plain, accepted, recorded as a middlebox.
BOOST_FIXTURE_TEST_CASE(reset_to_syn_data_is_retried_plain, remembered)
{
    fastopen_once(acceptor, request);
    private_netns::nft("table ip tfo_middlebox { chain input { type filter hook input priority 0; "
                       "tcp flags & (syn | ack) == syn ip length > 80 counter reject with tcp reset; }; }");
    auto o = timed_once(acceptor, request);
    expect_delivered(o, request);
    expect_no_tfo(o);
    BOOST_TEST((o.took < 300ms));
    BOOST_TEST(private_netns::run("nft list table ip tfo_middlebox | grep -q 'packets 1 '") == 0,
               "one SYN with data was reset");
    auto s = state();
    BOOST_TEST(!s.fast_open);
    BOOST_TEST((s.reason == tfo::path_reason::reset_on_syn_data));
    BOOST_TEST(memory.counters().resets == 1u);
    count_fast_open_syns();
    const auto before = fast_open_syns_sent();
    expect_plain(timed_once(acceptor, request), request, before);
}

// (c) ... and where the plain SYN is refused too, the answer is connection_refused.
BOOST_FIXTURE_TEST_CASE(reset_to_both_is_connection_refused, remembered)
{
    fastopen_once(acceptor, request);
    fastopen_once(acceptor, request); // SYN data acknowledged: accepted before
    const tcp::endpoint gone = acceptor.local_endpoint();
    acceptor.close();
    private_netns::nft("table ip tfo_syn_data { chain output { type filter hook output priority 0; "
                       "tcp flags & (syn | ack) == syn ip length > 80 counter; }; }");
    tcp::socket client(io);
    boost::system::error_code result;
    std::size_t written = 99;
    const auto start = steady::now();
    tfo::async_fastopen_connect(client, gone, asio::buffer(request), [&](boost::system::error_code ec, std::size_t n) {
        result = ec;
        written = n;
    });
    io.restart();
    io.run();
    BOOST_TEST((result == asio::error::connection_refused), result.message());
    BOOST_TEST(written == 0u);
    BOOST_TEST((steady::now() - start < 300ms));
    BOOST_TEST(private_netns::run("nft list table ip tfo_syn_data | grep -q 'packets 1 '") == 0,
               "the refused SYN carried the request");
    BOOST_TEST(memory.counters().resets == 0u, "a server gone is not a middlebox");
    BOOST_TEST(memory.state(gone).fast_open);
}

// The kernel's record seeds a new path memory: a process that starts after
// the drops does not pay for them again.
BOOST_FIXTURE_TEST_CASE(seeded_from_the_kernel, remembered)
{
    fastopen_once(acceptor, request);
    drop_syns_with_data();
    expect_lost_then_plain(timed_once(acceptor, request), request);
    const auto k = tfo::read_kernel_path_record(acceptor.local_endpoint().address());
    BOOST_TEST(k.found);
    BOOST_TEST(k.syn_drops == 1u);
    BOOST_TEST(k.syn_drop_age.count() >= 0);
    BOOST_TEST(k.cookie_length > 0u);
    BOOST_TEST(k.rtt.count() > 0);

    // A second io_context: a new path memory, as in a new process.
    asio::io_context fresh;
    auto& m = asio::use_service<tfo::path_memory>(fresh);
    count_fast_open_syns();
    tcp::socket client(fresh);
    acceptor.async_accept([](boost::system::error_code, tcp::socket) {});
    const auto before = fast_open_syns_sent();
    boost::system::error_code result;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                [&](boost::system::error_code ec, std::size_t) { result = ec; });
    fresh.run();
    io.restart();
    io.poll();
    BOOST_TEST(!result, result.message());
    BOOST_TEST(fast_open_syns_sent() == before, "plain from the first connect");
    const auto s = m.state(acceptor.local_endpoint());
    BOOST_TEST(s.kernel_seeded);
    BOOST_TEST((s.reason == tfo::path_reason::kernel_syn_drops));
    BOOST_TEST(m.counters().kernel_reads == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_path_memory
