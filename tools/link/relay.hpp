//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The relay between the two TUN devices: each packet is stamped when read
// and delivered rtt/2 later, in order, unless the loss draw drops it.
//

#ifndef TFO_TOOLS_LINK_RELAY_HPP
#define TFO_TOOLS_LINK_RELAY_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace tfo::link {

/// Nanoseconds of CLOCK_MONOTONIC, the clock of the relay's timerfds.
std::int64_t now_ns();

/// One way through the link, with its statistics.
struct direction
{
    std::string name;
    int from = -1; ///< the TUN descriptor packets are read from
    int to = -1;   ///< the TUN descriptor they are written to

    struct packet
    {
        std::int64_t due_ns;
        std::vector<std::uint8_t> data;
    };
    std::deque<packet> queue;
    std::size_t queued_bytes = 0;

    std::uint64_t received = 0, delivered = 0, lost = 0, overflow = 0, write_errors = 0, bytes = 0;
    std::int64_t late_sum_ns = 0, late_abs_sum_ns = 0;
    std::int64_t late_max_ns = std::numeric_limits<std::int64_t>::min();
    std::int64_t late_min_ns = std::numeric_limits<std::int64_t>::max();

    /// What --verbose prints about this direction.
    void print_statistics(std::ostream& out) const;
};

class relay
{
public:
    /// Relays client -> server and server -> client with a one-way delay of
    /// rtt/2; `seed` makes the loss draws repeatable.
    relay(int client_tun, int server_tun, double rtt_ms, double loss, std::optional<std::uint64_t> seed);

    /// The directions: [0] client -> server, [1] server -> client.
    std::array<direction, 2>& directions() noexcept { return directions_; }

    /// Reads what is pending on `d.from` (a bounded batch, so one busy
    /// direction cannot starve the other) and queues it.
    void read(direction& d);

    /// Delivers every packet whose time has come; returns when the timer
    /// should fire for the next one, or nothing when no packet is queued.
    std::optional<std::int64_t> deliver_due();

    /// Feeds one observed timer wake-up latency (fire time minus armed time).
    void note_wake_latency(std::int64_t ns);

    std::int64_t wake_estimate_ns() const noexcept { return wake_estimate_ns_; }

private:
    std::vector<std::uint8_t> take_buffer();

    std::array<direction, 2> directions_;
    std::int64_t delay_ns_;
    double loss_;
    std::mt19937_64 random_;
    std::uniform_real_distribution<double> draw_{0.0, 1.0};
    std::vector<std::uint8_t> scratch_;
    std::vector<std::vector<std::uint8_t>> free_buffers_;
    // In a VM an idle vCPU takes 50..300 us to wake; a moving average tracks it.
    std::int64_t wake_estimate_ns_ = 50'000;
};

} // namespace tfo::link

#endif
