//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "relay.hpp"

#include "system_error.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <unistd.h>

namespace tfo::link {
namespace {

// Packets held per direction are capped so that a runaway sender cannot eat
// all memory; 64 MiB is far above any bandwidth-delay product we emulate.
constexpr std::size_t max_queued_bytes = 64u << 20;

} // namespace

std::int64_t now_ns()
{
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void direction::print_statistics(std::ostream& out) const
{
    out << "tfo-link: " << name << ": " << received << " packets in, " << delivered << " delivered (" << bytes
        << " bytes), " << lost << " lost, " << overflow << " overflow, " << write_errors << " write errors\n";
    if (delivered == 0)
        return;
    const double n = static_cast<double>(delivered);
    auto us = [](double ns) { return ns / 1e3; };
    out << std::fixed << std::setprecision(1) << "tfo-link: " << name
        << ": delivery error vs deadline (us): mean " << std::showpos << us(static_cast<double>(late_sum_ns) / n)
        << std::noshowpos << ", mean abs " << us(static_cast<double>(late_abs_sum_ns) / n) << ", min "
        << std::showpos << us(static_cast<double>(late_min_ns)) << ", max " << us(static_cast<double>(late_max_ns))
        << std::noshowpos << '\n'
        << std::defaultfloat;
}

relay::relay(int client_tun, int server_tun, double rtt_ms, double loss, std::optional<std::uint64_t> seed)
    : delay_ns_(std::llround(rtt_ms * 1e6 / 2)), loss_(loss), scratch_(65536)
{
    directions_[0].name = "client->server";
    directions_[0].from = client_tun;
    directions_[0].to = server_tun;
    directions_[1].name = "server->client";
    directions_[1].from = server_tun;
    directions_[1].to = client_tun;
    std::random_device entropy;
    random_.seed(seed ? *seed : (static_cast<std::uint64_t>(entropy()) << 32 | entropy()));
}

void relay::read(direction& d)
{
    for (int i = 0; i < 64; ++i)
    {
        const ssize_t n = ::read(d.from, scratch_.data(), scratch_.size());
        if (n < 0)
        {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            throw_errno("read from the " + d.name + " TUN");
        }
        const std::int64_t now = now_ns();
        ++d.received;
        if (loss_ > 0 && draw_(random_) < loss_)
        {
            ++d.lost;
            continue;
        }
        const auto size = static_cast<std::size_t>(n);
        if (d.queued_bytes + size > max_queued_bytes)
        {
            ++d.overflow;
            continue;
        }
        direction::packet p{now + delay_ns_, take_buffer()};
        p.data.assign(scratch_.begin(), scratch_.begin() + n);
        d.queued_bytes += size;
        d.queue.push_back(std::move(p));
    }
}

// A packet counts as due once its deadline minus the expected timer wake-up
// latency has passed: waking that much early makes the mean delivery error ~0.
std::optional<std::int64_t> relay::deliver_due()
{
    std::optional<std::int64_t> next;
    for (direction& d : directions_)
    {
        while (!d.queue.empty())
        {
            const std::int64_t now = now_ns();
            direction::packet& p = d.queue.front();
            // Never more than half the delay early, so that tiny RTTs stay sane.
            const std::int64_t at = p.due_ns - std::min(wake_estimate_ns_, delay_ns_ / 2);
            if (at > now)
            {
                next = next ? std::min(*next, at) : at;
                break;
            }
            const ssize_t written = ::write(d.to, p.data.data(), p.data.size());
            if (written == static_cast<ssize_t>(p.data.size()))
            {
                ++d.delivered;
                d.bytes += p.data.size();
                const std::int64_t late = now - p.due_ns;
                d.late_sum_ns += late;
                d.late_abs_sum_ns += late < 0 ? -late : late;
                d.late_max_ns = std::max(d.late_max_ns, late);
                d.late_min_ns = std::min(d.late_min_ns, late);
            }
            else
                ++d.write_errors; // e.g. a malformed packet; a real link drops it too
            d.queued_bytes -= p.data.size();
            free_buffers_.push_back(std::move(p.data));
            d.queue.pop_front();
        }
    }
    return next;
}

void relay::note_wake_latency(std::int64_t ns)
{
    ns = std::clamp<std::int64_t>(ns, 0, 1'000'000); // preemption outliers say nothing about wake-ups
    wake_estimate_ns_ += (ns - wake_estimate_ns_) / 8;
}

std::vector<std::uint8_t> relay::take_buffer()
{
    if (free_buffers_.empty())
        return {};
    std::vector<std::uint8_t> buffer = std::move(free_buffers_.back());
    free_buffers_.pop_back();
    return buffer;
}

} // namespace tfo::link
