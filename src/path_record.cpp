//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/detail/path_record.hpp>

#include <algorithm>
#include <limits>

namespace tfo::detail {

using std::chrono::milliseconds;

namespace {

// Counters of a record stop at their largest value instead of wrapping.
template <typename T>
void bump(T& counter) noexcept
{
    if (counter != std::numeric_limits<T>::max())
        ++counter;
}

} // namespace

milliseconds back_off(unsigned n, const path_memory_options& o) noexcept
{
    milliseconds d = o.first_back_off;
    for (unsigned i = 1; i < n && d < o.max_back_off; ++i)
        d *= 2;
    return std::min(d, o.max_back_off);
}

std::uint32_t hedge_delay_us(std::uint32_t rtt_us, const path_memory_options& o) noexcept
{
    const auto us = [](milliseconds m) { return static_cast<std::uint64_t>(m.count()) * 1000; };
    std::uint64_t d = rtt_us == 0 ? us(o.hedge_default_delay) : std::uint64_t{rtt_us} * o.hedge_rtt_multiple;
    d = std::clamp(d, us(o.hedge_min_delay), std::max(us(o.hedge_min_delay), us(o.hedge_max_delay)));
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(d, 0xffffffffu));
}

path_advice advise(path_record& r, path_record::time_point now, const path_memory_options& o,
                   bool may_hedge) noexcept
{
    path_advice a;
    // Only where a connection was accepted before is a reset to SYN data
    // suspicious; a first reset is the server's answer.
    a.retry_plain_after_reset = r.accepted_before;
    if (now < r.off_until)
    {
        a.fast_open = false;
        a.observe_plain = true;
        return a;
    }
    if (r.on_probation(o))
    {
        // One probe at a time: the others stay plain until it reports (or
        // is given up after probe_timeout).
        if (r.probe_in_flight && now - r.probe_started < o.probe_timeout)
        {
            a.fast_open = false;
            a.observe_plain = true;
            return a;
        }
        a.probe = true;
        r.probe_in_flight = true;
        r.probe_started = now;
        bump(r.probes);
    }
    if (may_hedge && o.hedge && !r.confirmed)
    {
        a.hedge_delay_us = hedge_delay_us(r.rtt_us, o);
        a.hedge_cookie_request = !r.cookie_request_passed;
    }
    return a;
}

namespace {

void lost(path_record& r, path_reason why, path_record::time_point now, const path_memory_options& o) noexcept
{
    bump(r.losses);
    r.confirmed = false;
    r.cookie_request_passed = false;
    r.reason = why;
    r.off_until = now + back_off(r.losses, o);
}

} // namespace

void update(path_record& r, const path_event& e, path_record::time_point now, const path_memory_options& o) noexcept
{
    if (e.rtt_us != 0)
        r.rtt_us = e.rtt_us;
    switch (e.kind)
    {
    case path_event_kind::none:
        return;
    case path_event_kind::fast_open_acked:
        r.losses = 0;
        r.refusals = 0;
        r.probes = 0;
        r.reason = path_reason::none;
        r.off_until = {};
        r.confirmed = true;
        bump(r.successes);
        break;
    case path_event_kind::cookie_answered:
        // The option passed, but no data was at stake: the next connect,
        // with the cookie, decides. Another cookie request (a server that
        // gives none) needs no hedge.
        r.cookie_request_passed = true;
        break;
    case path_event_kind::syn_lost:
    case path_event_kind::hedge_won:
        lost(r, path_reason::syn_lost, now, o);
        break;
    case path_event_kind::reset_on_syn_data:
        lost(r, path_reason::reset_on_syn_data, now, o);
        break;
    case path_event_kind::data_refused:
        bump(r.refusals);
        r.confirmed = false;
        if (r.refusals >= o.refusals_before_back_off)
        {
            r.reason = path_reason::data_refused;
            r.off_until = now + back_off(r.refusals - o.refusals_before_back_off + 1, o);
        }
        break;
    case path_event_kind::plain_answered:
        break;
    case path_event_kind::plain_lost:
        // Plain SYNs are lost too: the path drops SYNs of every kind, and
        // Fast Open is not to blame for the loss that started the back-off.
        if (r.reason == path_reason::syn_lost || r.reason == path_reason::kernel_syn_drops)
        {
            r.losses = 0;
            r.reason = path_reason::none;
            r.off_until = {};
        }
        break;
    }
    r.accepted_before = true;
    if (e.kind != path_event_kind::plain_answered && e.kind != path_event_kind::plain_lost)
        r.probe_in_flight = false;
}

void seed(path_record& r, const kernel_path_record& k, path_record::time_point now,
          const path_memory_options& o) noexcept
{
    r.kernel_seeded = true;
    if (!k.found)
        return;
    if (r.rtt_us == 0 && k.rtt.count() > 0)
        r.rtt_us = static_cast<std::uint32_t>(std::min<std::int64_t>(k.rtt.count(), 0xffffffff));
    if (k.syn_drops == 0 || k.syn_drop_age.count() < 0 || r.losses > 0)
        return;
    // The kernel counts drops in a row (a success resets it) and keeps the
    // age of the last one: back off from then, as if it had been ours.
    r.losses = k.syn_drops; // both 16 bits
    r.reason = path_reason::kernel_syn_drops;
    r.accepted_before = true; // the retransmitted SYN was answered
    r.off_until = now - k.syn_drop_age + back_off(r.losses, o);
}

destination_state state_of(const path_record& r, path_record::time_point now, const path_memory_options& o) noexcept
{
    destination_state s;
    s.fast_open = now >= r.off_until && !(r.probe_in_flight && now - r.probe_started < o.probe_timeout);
    s.probing = s.fast_open && r.on_probation(o);
    s.reason = r.reason;
    s.off_until = r.off_until;
    s.losses = r.losses;
    s.refusals = r.refusals;
    s.probes = r.probes;
    s.successes = r.successes;
    s.accepted_before = r.accepted_before;
    s.confirmed = r.confirmed;
    s.rtt = std::chrono::microseconds(r.rtt_us);
    s.kernel_seeded = r.kernel_seeded;
    return s;
}

} // namespace tfo::detail
