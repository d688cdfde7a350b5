//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The decisions of the path memory for one destination, free of locks, maps
// and clocks: what to advise for the next connect, what an attempt's outcome
// changes, what the kernel's tcp_metrics entry says at first sight. The
// service (src/path_memory.cpp) only keeps these records; tests drive them
// with any time they like.
//

#ifndef TFO_DETAIL_PATH_RECORD_HPP
#define TFO_DETAIL_PATH_RECORD_HPP

#include <tfo/detail/connect_steps.hpp>
#include <tfo/path_memory.hpp>

#include <chrono>
#include <cstdint>

namespace tfo::detail {

/// What the path memory keeps for one destination: 32 bytes, so that a
/// client of many destinations pays little for each.
struct path_record
{
    using time_point = std::chrono::steady_clock::time_point;

    time_point off_until{};     // Fast Open off until then
    time_point probe_started{}; // of the probe in flight
    std::uint32_t rtt_us = 0;
    std::uint32_t successes = 0; // saturates
    std::uint16_t losses = 0;    // in a row, saturates
    std::uint16_t refusals = 0;  // in a row, saturates
    std::uint16_t probes = 0;    // since the last success, saturates
    path_reason reason = path_reason::none;
    bool probe_in_flight : 1 = false;
    bool accepted_before : 1 = false;
    bool confirmed : 1 = false;
    bool cookie_request_passed : 1 = false; // a SYN with the option and no data was answered at once
    bool kernel_seeded : 1 = false;

    /// Something counts against Fast Open here: the next fast-open connect
    /// after the back-off is a probe.
    bool on_probation(const path_memory_options& o) const noexcept
    {
        return losses > 0 || refusals >= o.refusals_before_back_off || reason != path_reason::none;
    }

    /// Whether advice needs the time: only where something counts against
    /// Fast Open. A healthy destination's connect reads no clock.
    bool advice_needs_time(const path_memory_options& o) const noexcept
    {
        return off_until != time_point{} || probe_in_flight || on_probation(o);
    }
};

/// Whether learning from `e` needs the time (a back-off starts). Inline: it
/// is asked once per connect.
inline bool update_needs_time(const path_event& e) noexcept
{
    switch (e.kind)
    {
    case path_event_kind::syn_lost:
    case path_event_kind::hedge_won:
    case path_event_kind::reset_on_syn_data:
    case path_event_kind::data_refused:
        return true;
    default:
        return false;
    }
}

/// The back-off after the `n`th loss in a row (n >= 1): first, doubling, capped.
std::chrono::milliseconds back_off(unsigned n, const path_memory_options& o) noexcept;

/// The hedge delay for a destination of round-trip time `rtt_us` (0: unknown).
std::uint32_t hedge_delay_us(std::uint32_t rtt_us, const path_memory_options& o) noexcept;

/// The advice for one connect at `now`; notes a probe when it starts one.
/// `may_hedge`: the caller can race a second socket (the asynchronous form).
path_advice advise(path_record& r, path_record::time_point now, const path_memory_options& o,
                   bool may_hedge) noexcept;

/// Learns from one attempt's outcome.
void update(path_record& r, const path_event& e, path_record::time_point now, const path_memory_options& o) noexcept;

/// Seeds a new record from the kernel's tcp_metrics entry.
void seed(path_record& r, const kernel_path_record& k, path_record::time_point now,
          const path_memory_options& o) noexcept;

/// The public view of a record at `now`.
destination_state state_of(const path_record& r, path_record::time_point now, const path_memory_options& o) noexcept;

/// What a handshake's evidence means for the path memory: `fast_open` when
/// the SYN was sent with Fast Open (data or a cookie request).
inline path_event classify(const syn_evidence& syn, bool fast_open) noexcept
{
    path_event e;
    if (!syn.read)
        return e;
    // Karn: a retransmitted SYN gives no round-trip sample.
    if (!syn.retransmitted)
        e.rtt_us = syn.rtt_us;
    if (!fast_open)
    {
        e.kind = syn.retransmitted ? path_event_kind::plain_lost : path_event_kind::plain_answered;
        return e;
    }
    if (syn.data_acked)
        e.kind = path_event_kind::fast_open_acked;
    else if (syn.failure == syn_failure::syn_retransmitted || syn.retransmitted)
        // The data SYN's loss sets the failure; a cookie request's loss shows
        // only in the retransmission count.
        e.kind = syn.failure == syn_failure::data_not_acked ? path_event_kind::data_refused
                                                            : path_event_kind::syn_lost;
    else if (syn.failure == syn_failure::data_not_acked)
        e.kind = path_event_kind::data_refused;
    else
        e.kind = path_event_kind::cookie_answered;
    return e;
}

} // namespace tfo::detail

#endif
