//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The path memory's decisions for one destination, without a network or a
// real clock: back-off, probes, what each outcome changes, the kernel's seed,
// and how TCP_INFO evidence is read.

#include <tfo/detail/path_record.hpp>

#include <boost/test/unit_test.hpp>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_detail_path_record)

using namespace std::chrono_literals;
using tfo::detail::path_advice;
using tfo::detail::path_event;
using tfo::detail::path_event_kind;
using tfo::detail::path_record;
using tfo::detail::syn_evidence;
using tfo::detail::syn_failure;
using kind = path_event_kind;

namespace {

const path_record::time_point t0 = path_record::time_point{} + 1000h;
const tfo::path_memory_options defaults;

path_event event(kind k, std::uint32_t rtt_us = 0)
{
    path_event e;
    e.kind = k;
    e.rtt_us = rtt_us;
    return e;
}

} // namespace

BOOST_AUTO_TEST_CASE(back_off_doubles_and_is_capped)
{
    BOOST_TEST(tfo::detail::back_off(1, defaults).count() == std::chrono::milliseconds(1min).count());
    BOOST_TEST(tfo::detail::back_off(2, defaults).count() == std::chrono::milliseconds(2min).count());
    BOOST_TEST(tfo::detail::back_off(4, defaults).count() == std::chrono::milliseconds(8min).count());
    BOOST_TEST(tfo::detail::back_off(11, defaults).count() == std::chrono::milliseconds(1024min).count());
    BOOST_TEST(tfo::detail::back_off(12, defaults).count() == std::chrono::milliseconds(24h).count());
    BOOST_TEST(tfo::detail::back_off(60000, defaults).count() == std::chrono::milliseconds(24h).count());
}

BOOST_AUTO_TEST_CASE(hedge_delay_from_the_rtt_clamped)
{
    BOOST_TEST(tfo::detail::hedge_delay_us(0, defaults) == 250'000u, "unknown RTT: the default");
    BOOST_TEST(tfo::detail::hedge_delay_us(20'000, defaults) == 60'000u, "3 RTT");
    BOOST_TEST(tfo::detail::hedge_delay_us(50, defaults) == 20'000u, "loopback: the floor");
    BOOST_TEST(tfo::detail::hedge_delay_us(400'000, defaults) == 500'000u, "the ceiling");
}

BOOST_AUTO_TEST_CASE(a_new_destination_uses_fast_open_with_the_hedge)
{
    path_record r;
    const path_advice a = advise(r, t0, defaults, true);
    BOOST_TEST(a.fast_open);
    BOOST_TEST(!a.probe);
    BOOST_TEST(a.hedge_delay_us == 250'000u);
    BOOST_TEST(!a.retry_plain_after_reset, "nothing was ever accepted there");
    BOOST_TEST(advise(r, t0, defaults, false).hedge_delay_us == 0u, "the synchronous form cannot hedge");
}

BOOST_AUTO_TEST_CASE(a_healthy_path_pays_nothing_more)
{
    path_record r;
    advise(r, t0, defaults, true);
    update(r, event(kind::cookie_answered, 40), t0, defaults);
    advise(r, t0, defaults, true);
    update(r, event(kind::fast_open_acked, 40), t0, defaults);
    for (int i = 0; i < 5; ++i)
    {
        const path_advice a = advise(r, t0 + i * 1s, defaults, true);
        BOOST_TEST(a.fast_open);
        BOOST_TEST(!a.probe);
        BOOST_TEST(a.hedge_delay_us == 0u, "no hedge once SYN data was acknowledged");
        BOOST_TEST(a.retry_plain_after_reset);
        update(r, event(kind::fast_open_acked, 40), t0, defaults);
    }
    BOOST_TEST(r.successes == 6u);
}

// A server that never gives a cookie: every SYN is a cookie request, which
// the path passed once already. Hedging each would cost a timer per connect.
BOOST_AUTO_TEST_CASE(a_cookie_request_that_passed_is_not_hedged_again)
{
    path_record r;
    BOOST_TEST(advise(r, t0, defaults, true).hedge_cookie_request, "first contact: the option may be dropped");
    update(r, event(kind::cookie_answered, 40), t0, defaults);
    const path_advice a = advise(r, t0, defaults, true);
    BOOST_TEST(a.hedge_delay_us != 0u, "SYN data, once a cookie came, is still hedged");
    BOOST_TEST(!a.hedge_cookie_request);
    update(r, event(kind::syn_lost), t0, defaults);
    BOOST_TEST(advise(r, t0 + 24h, defaults, true).hedge_cookie_request, "after a loss, everything is hedged again");
}

BOOST_AUTO_TEST_CASE(a_loss_backs_off_then_probes_and_a_success_resumes)
{
    path_record r;
    advise(r, t0, defaults, true);
    update(r, event(kind::syn_lost), t0, defaults);
    BOOST_TEST(r.losses == 1u);
    BOOST_TEST((r.reason == tfo::path_reason::syn_lost));

    for (auto t : {t0, t0 + 1s, t0 + 59s})
    {
        const path_advice a = advise(r, t, defaults, true);
        BOOST_TEST(!a.fast_open, "plain during the back-off");
        BOOST_TEST(a.observe_plain);
        update(r, event(kind::plain_answered), t, defaults);
    }
    const path_advice probe = advise(r, t0 + 60s, defaults, true);
    BOOST_TEST(probe.fast_open);
    BOOST_TEST(probe.probe);
    BOOST_TEST(probe.hedge_delay_us != 0u, "a probe is hedged");
    BOOST_TEST(!advise(r, t0 + 60s, defaults, true).fast_open, "one probe at a time");
    update(r, event(kind::fast_open_acked), t0 + 61s, defaults);
    const path_advice after = advise(r, t0 + 61s, defaults, true);
    BOOST_TEST(after.fast_open);
    BOOST_TEST(!after.probe);
    BOOST_TEST(r.losses == 0u);
    BOOST_TEST((r.reason == tfo::path_reason::none));
}

BOOST_AUTO_TEST_CASE(repeated_losses_double_the_back_off)
{
    path_record r;
    auto t = t0;
    for (unsigned n = 1; n <= 4; ++n)
    {
        const path_advice a = advise(r, t, defaults, true);
        BOOST_TEST(a.fast_open);
        BOOST_TEST(a.probe == (n > 1));
        update(r, event(n % 2 ? kind::syn_lost : kind::hedge_won), t, defaults);
        BOOST_TEST(r.losses == n);
        const auto wait = tfo::detail::back_off(n, defaults);
        BOOST_TEST(!advise(r, t + wait - 1ms, defaults, true).fast_open);
        t += wait;
    }
    BOOST_TEST(r.probes == 3u);
}

BOOST_AUTO_TEST_CASE(a_probe_that_never_reports_is_given_up)
{
    path_record r;
    update(r, event(kind::syn_lost), t0, defaults);
    BOOST_TEST(advise(r, t0 + 1min, defaults, true).probe);
    BOOST_TEST(!advise(r, t0 + 1min + 29s, defaults, true).fast_open);
    BOOST_TEST(advise(r, t0 + 1min + 30s, defaults, true).probe);
}

BOOST_AUTO_TEST_CASE(plain_syns_lost_too_clear_the_blame)
{
    path_record r;
    update(r, event(kind::syn_lost), t0, defaults);
    BOOST_TEST(!advise(r, t0 + 1s, defaults, true).fast_open);
    update(r, event(kind::plain_lost), t0 + 2s, defaults);
    BOOST_TEST(r.losses == 0u);
    const path_advice a = advise(r, t0 + 2s, defaults, true);
    BOOST_TEST(a.fast_open, "the path loses SYNs of any kind: Fast Open is not to blame");
    BOOST_TEST(!a.probe);
}

BOOST_AUTO_TEST_CASE(repeated_refusals_stop_data_in_the_syn)
{
    path_record r;
    update(r, event(kind::data_refused), t0, defaults);
    update(r, event(kind::data_refused), t0, defaults);
    BOOST_TEST(advise(r, t0, defaults, true).fast_open, "two refusals: still Fast Open");
    update(r, event(kind::data_refused), t0, defaults);
    BOOST_TEST(!advise(r, t0, defaults, true).fast_open, "the third: a back-off");
    BOOST_TEST((r.reason == tfo::path_reason::data_refused));
    BOOST_TEST(advise(r, t0 + 1min, defaults, true).probe);
}

BOOST_AUTO_TEST_CASE(a_reset_to_syn_data_is_a_middlebox)
{
    path_record r;
    update(r, event(kind::plain_answered), t0, defaults);
    BOOST_TEST(advise(r, t0, defaults, true).retry_plain_after_reset);
    update(r, event(kind::reset_on_syn_data), t0, defaults);
    BOOST_TEST((r.reason == tfo::path_reason::reset_on_syn_data));
    BOOST_TEST(!advise(r, t0 + 1s, defaults, true).fast_open);
    update(r, event(kind::plain_lost), t0 + 2s, defaults);
    BOOST_TEST(!advise(r, t0 + 3s, defaults, true).fast_open, "a reset is not a loss that plain SYNs excuse");
}

BOOST_AUTO_TEST_CASE(the_kernel_seed)
{
    tfo::kernel_path_record k;
    k.found = true;
    k.syn_drops = 2;
    k.syn_drop_age = 30s;
    k.rtt = 20ms;
    path_record r;
    seed(r, k, t0, defaults);
    BOOST_TEST(bool(r.kernel_seeded)); // a bit-field
    BOOST_TEST(r.rtt_us == 20'000u);
    BOOST_TEST(r.losses == 2u);
    BOOST_TEST(!advise(r, t0, defaults, true).fast_open, "2 drops, 30 s ago: a 2 min back-off from then");
    BOOST_TEST(!advise(r, t0 + 89s, defaults, true).fast_open);
    const path_advice probe = advise(r, t0 + 90s, defaults, true);
    BOOST_TEST(probe.probe);
    BOOST_TEST(probe.hedge_delay_us == 60'000u, "3 RTT from the kernel's RTT");

    path_record fresh;
    seed(fresh, tfo::kernel_path_record{}, t0, defaults);
    BOOST_TEST(bool(fresh.kernel_seeded));
    BOOST_TEST(advise(fresh, t0, defaults, true).fast_open);
}

BOOST_AUTO_TEST_CASE(state_of_a_record)
{
    path_record r;
    update(r, event(kind::syn_lost, 0), t0, defaults);
    auto s = state_of(r, t0 + 1s, defaults);
    BOOST_TEST(!s.fast_open);
    BOOST_TEST(s.losses == 1u);
    BOOST_TEST((s.off_until == t0 + 1min));
    BOOST_TEST(s.accepted_before);
    s = state_of(r, t0 + 1min, defaults);
    BOOST_TEST(s.fast_open);
    BOOST_TEST(s.probing);
}

BOOST_AUTO_TEST_CASE(classify_tcp_info)
{
    using tfo::detail::classify;
    syn_evidence e;
    BOOST_TEST((classify(e, true).kind == kind::none), "nothing read, nothing learned");
    e.read = true;
    e.rtt_us = 70;
    e.data_acked = true;
    BOOST_TEST((classify(e, true).kind == kind::fast_open_acked));
    BOOST_TEST(classify(e, true).rtt_us == 70u);
    e.data_acked = false;
    e.failure = syn_failure::cookie_unavailable;
    BOOST_TEST((classify(e, true).kind == kind::cookie_answered));
    e.retransmitted = true;
    BOOST_TEST((classify(e, true).kind == kind::syn_lost), "a lost cookie request shows only as a retransmission");
    BOOST_TEST(classify(e, true).rtt_us == 0u, "Karn: no sample from a retransmitted SYN");
    e.failure = syn_failure::syn_retransmitted;
    BOOST_TEST((classify(e, true).kind == kind::syn_lost));
    e.failure = syn_failure::data_not_acked; // the kernel resent the data: a retransmission too
    BOOST_TEST((classify(e, true).kind == kind::data_refused));
    e.failure = syn_failure::none;
    BOOST_TEST((classify(e, false).kind == kind::plain_lost));
    e.retransmitted = false;
    BOOST_TEST((classify(e, false).kind == kind::plain_answered));
}

BOOST_AUTO_TEST_SUITE_END() // unit_detail_path_record
