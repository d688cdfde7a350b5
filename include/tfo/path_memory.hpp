//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_PATH_MEMORY_HPP
#define TFO_PATH_MEMORY_HPP

#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace tfo {

namespace detail {
struct path_advice;
struct path_event;
struct path_memory_access;
} // namespace detail

/// How a `tfo::path_memory` behaves. The defaults follow the kernels that
/// still do this themselves (XNU backs off after losses and doubles; FreeBSD
/// turns a path off for 15 minutes; any success resets), shortened because a
/// probe here costs at most the hedge delay, not a retransmission timeout.
struct path_memory_options
{
    /// false: every connect uses Fast Open as the kernel alone would (no
    /// back-off, no hedge), and nothing is learned.
    bool enabled = true;

    /// After a destination lost a SYN with the Fast Open option, connects to
    /// it are plain (no Fast Open option in the SYN) for this long.
    std::chrono::milliseconds first_back_off = std::chrono::minutes(1);

    /// Each further loss doubles the back-off, up to this.
    std::chrono::milliseconds max_back_off = std::chrono::hours(24);

    /// SYN data not acknowledged (the server refused the cookie: a key
    /// rotation, servers with different keys behind one address) this many
    /// times in a row: no more data in the SYN there, backing off as for losses.
    unsigned refusals_before_back_off = 3;

    /// Race a plain connect against a fast-open SYN that has had no answer
    /// after the hedge delay (asynchronous connects only). The hedge is armed
    /// unless the destination's last SYN data was acknowledged, so that the
    /// healthy path costs nothing more, and not for a SYN that only asks for
    /// a cookie where such a SYN was answered before (a server that gives
    /// no cookie).
    bool hedge = true;

    /// The hedge delay: this multiple of the destination's round-trip time,
    /// clamped to [hedge_min_delay, hedge_max_delay]; hedge_default_delay when
    /// the round-trip time is not known yet.
    unsigned hedge_rtt_multiple = 3;
    /// The shortest hedge delay: below it, a loopback or LAN peer's normal
    /// jitter would start hedges for nothing.
    std::chrono::milliseconds hedge_min_delay{20};
    /// The longest hedge delay: half of Linux's 1 s initial retransmission timeout.
    std::chrono::milliseconds hedge_max_delay{500};
    /// The hedge delay before a round-trip time is known (first contact).
    std::chrono::milliseconds hedge_default_delay{250};

    /// A probe that reported nothing for this long (cancelled, never
    /// finished) lets another connection probe.
    std::chrono::milliseconds probe_timeout = std::chrono::seconds(30);

    /// Seed the record of a destination seen for the first time from the
    /// kernel's `tcp_metrics` entry for its address, so that a new process
    /// does not pay again for SYN drops the kernel already recorded, and
    /// starts with the round-trip time the kernel knows.
    bool seed_from_kernel = true;

    /// How long one read of the kernel's `tcp_metrics` table serves. The
    /// table is read whole (one netlink dump: a few system calls per few
    /// hundred entries), when a destination new to the path memory is seen
    /// and the last read is older than this; destinations first seen within
    /// the interval are seeded from that read, without a system call. An
    /// entry the kernel made after the read is missed until the next one:
    /// what it would have taught, the path memory learns itself, at the cost
    /// of one hedge delay at most. A new port of an address this process
    /// already measured starts with that round-trip time, whatever the read.
    std::chrono::milliseconds kernel_read_interval = std::chrono::minutes(1);

    /// Destinations remembered at most (at least 1). Each costs about 90
    /// bytes (64 for its record, the rest for the indexes and room to grow;
    /// 91 measured at 100,000), allocated as destinations come: the default
    /// bound is about 12 MiB at most.
    ///
    /// Beyond the bound, what a destination has against Fast Open (a
    /// back-off, refusals, a probe) is kept, and healthy destinations go
    /// first. A destination first seen while the memory is full is held in
    /// a window of `max_destinations / 16` records; a second connect there
    /// soon after keeps it for good, displacing a record not asked for
    /// lately. A round robin over more destinations than the bound so keeps
    /// the ones it first remembered, instead of forgetting each just before
    /// it comes round again; the others are each first contacts again
    /// (Fast Open with a hedge timer, and the kernel's record from its last
    /// read).
    std::size_t max_destinations = 131072;
};

/// Why Fast Open is off, or on probation, for a destination.
enum class path_reason : std::uint8_t
{
    none,              ///< nothing against it
    syn_lost,          ///< a SYN with the Fast Open option was lost (retransmitted, or outrun by the hedge)
    data_refused,      ///< the server did not acknowledge SYN data, repeatedly
    reset_on_syn_data, ///< a SYN with data was reset where a plain SYN was accepted: a middlebox
    kernel_syn_drops   ///< the kernel's tcp_metrics recorded SYN drops before this process looked
};

/// A short English description of a `path_reason`, such as "SYN lost".
std::string_view to_string(path_reason r) noexcept;

/// What the path memory knows about one destination.
struct destination_state
{
    /// The next `async_fastopen_connect` there puts data (or a cookie
    /// request) in the SYN; false: a plain connect.
    bool fast_open = true;

    /// Fast Open is back on probation: the next fast-open connect probes.
    bool probing = false;

    /// Why Fast Open is off or on probation; `none` when nothing counts against it.
    path_reason reason = path_reason::none;

    /// Fast Open stays off until this time of the path memory's clock.
    std::chrono::steady_clock::time_point off_until{};

    unsigned losses = 0;        ///< SYNs with the Fast Open option lost in a row
    unsigned refusals = 0;      ///< SYN data not acknowledged in a row
    unsigned probes = 0;        ///< probes made since the last success
    std::uint64_t successes = 0; ///< SYN data acknowledged
    bool accepted_before = false; ///< some connection there was established
    bool confirmed = false;     ///< the last SYN data there was acknowledged: no hedge
    std::chrono::microseconds rtt{0}; ///< last round-trip sample (0: none)
    bool kernel_seeded = false; ///< the kernel's tcp_metrics entry was read
};

/// Counters of a path memory since its creation, for monitoring.
struct path_memory_counters
{
    std::uint64_t attempts = 0;       ///< connects that asked for advice
    std::uint64_t plain = 0;          ///< of them, advised a plain connect (Fast Open off)
    std::uint64_t successes = 0;      ///< SYN data acknowledged
    std::uint64_t losses = 0;         ///< SYNs with the Fast Open option lost
    std::uint64_t refusals = 0;       ///< SYN data not acknowledged
    std::uint64_t resets = 0;         ///< resets answering SYN data, retried plain and accepted
    std::uint64_t probes = 0;         ///< fast-open probes after a back-off
    std::uint64_t hedges_started = 0; ///< plain connects raced against a silent fast-open SYN
    std::uint64_t hedges_won = 0;     ///< of them, established first
    std::uint64_t kernel_reads = 0;   ///< reads of the kernel's tcp_metrics table
};

/// The kernel's `tcp_metrics` entry for a destination address (what
/// `ip tcp_metrics show ADDRESS` prints), read over generic netlink in the
/// calling thread's network namespace.
struct kernel_path_record
{
    bool found = false;            ///< the kernel has an entry
    std::size_t cookie_length = 0; ///< a Fast Open cookie is cached (0: none)
    std::uint16_t fo_mss = 0;      ///< the MSS remembered for SYN data
    std::uint16_t syn_drops = 0;   ///< SYNs with data lost in a row (`fo_syn_drops`)
    std::chrono::milliseconds syn_drop_age{-1}; ///< since the last drop (-1: none)
    std::chrono::microseconds rtt{0};           ///< smoothed RTT (0: none)
    std::chrono::milliseconds age{0};           ///< since the entry was updated
};

/// Reads the kernel's `tcp_metrics` entry for `address`. `found` is false
/// when the kernel has none. Sets `tfo::error::not_supported` where the
/// platform has no such record (not Linux, or no `tcp_metrics` family).
kernel_path_record read_kernel_path_record(const boost::asio::ip::address& address, boost::system::error_code& ec);

/// Reads the kernel's `tcp_metrics` entry; throws `boost::system::system_error`.
kernel_path_record read_kernel_path_record(const boost::asio::ip::address& address);

/// What `tfo::async_fastopen_connect` remembers about destinations, per
/// execution context: every socket of an `io_context` shares one, found with
/// `boost::asio::use_service<tfo::path_memory>(context)`.
///
/// Every fast-open connect asks it for advice and tells it the outcome, as the
/// kernel reports it in `TCP_INFO` once the handshake has an answer:
/// - SYN data acknowledged: a success, which clears the destination's record;
/// - a SYN with the Fast Open option sent again (data or cookie request
///   lost), or outrun by the hedge: a loss. Connects there are then plain
///   (no Fast Open option in the SYN) for a back-off that starts at
///   `first_back_off` and doubles with each further loss up to
///   `max_back_off`; then one connection probes with Fast Open; a success
///   resumes Fast Open at once;
/// - SYN data not acknowledged, without a loss: a refusal; after
///   `refusals_before_back_off` in a row, a back-off as for losses;
/// - a reset in answer to SYN data, where a plain SYN is then accepted: a
///   middlebox, a loss;
/// - a plain SYN that had to be sent again during a back-off: the path loses
///   SYNs of every kind, so Fast Open is not to blame, and it resumes.
///
/// @par Keyed by address and port
/// Destinations are told apart by address and port. The kernel keeps its
/// cookies per address, but what drops Fast Open is usually a firewall or a
/// load balancer in front of one service (port 443, not port 80 of the same
/// host), and whether a server takes data in the SYN is a property of its
/// listener. Keyed by address alone, one service's fault would cost every
/// other service of that host its Fast Open; keyed by port as well, a bad
/// path costs one loss per port, which the hedge bounds.
///
/// @par The kernel first
/// The first time a destination is seen, the kernel's `tcp_metrics` entry for
/// its address seeds the record: SYN drops the kernel recorded start a
/// back-off from the time of the last drop, and its RTT sets the hedge
/// delay. The kernel's table is read whole, at most once per
/// `kernel_read_interval` (see there), so a client of many destinations pays
/// no system call per new destination. An asynchronous connect that needs a
/// read makes it in a completion step, never in the initiating function, and
/// no lock is held meanwhile: other threads' connects do not wait for it.
///
/// @par Cost
/// Advice and a report for a destination with nothing against Fast Open are
/// two lookups in a flat table under an uncontended lock, and no clock read.
/// See `path_memory_options::max_destinations` for memory, and for what is
/// kept when there are more destinations than that.
///
/// @par Thread safety
/// Every member function may be called from any thread.
class path_memory : public boost::asio::execution_context::service
{
public:
    /// The clock of the back-off times.
    using clock_type = std::chrono::steady_clock;

    /// The service's identifier (Asio's service registry).
    static boost::asio::execution_context::id id;

    /// Made by `boost::asio::use_service<tfo::path_memory>(context)`, with
    /// the default options and `steady_clock`.
    explicit path_memory(boost::asio::execution_context& context);

    /// Destroys the records.
    ~path_memory() override;

    /// Replaces the options; they apply from the next connect on, to every
    /// destination (records are kept).
    void set_options(const path_memory_options& options);

    /// The options in force.
    path_memory_options options() const;

    /// What is known about `destination`; a default state when nothing is.
    /// Never reads the kernel.
    destination_state state(const boost::asio::ip::tcp::endpoint& destination) const;

    /// The service's counters since it was made.
    path_memory_counters counters() const;

    /// Destinations remembered now (at most `max_destinations`).
    std::size_t size() const;

    /// Heap memory the path memory holds now, in bytes: its records, their
    /// index, and the last read of the kernel's table.
    std::size_t memory_bytes() const;

    /// For users of the kernel's deferred connect (`tfo::fast_open_deferred_connect`),
    /// which the library cannot hedge or observe before the first write:
    /// whether to set the option for a connect to `destination` now. Counts
    /// as an attempt, and a probe after a back-off, like a fast-open connect.
    /// Report the outcome with `observe` once the handshake has surely
    /// completed: after the first read (the first write returns as soon as
    /// the SYN is queued).
    bool use_deferred_connect(const boost::asio::ip::tcp::endpoint& destination);

    /// Reads what the kernel recorded about the SYN of `connection`, an open
    /// socket connected to `destination` (`TCP_INFO`), and learns from it as
    /// from a fast-open connect; `fast_open` says whether the SYN was sent
    /// with Fast Open (the option set).
    void observe(const boost::asio::ip::tcp::endpoint& destination,
                 boost::asio::ip::tcp::socket::native_handle_type connection, bool fast_open);

    /// Forgets one destination: the next connect there starts afresh (and
    /// the kernel's table is read again).
    void forget(const boost::asio::ip::tcp::endpoint& destination);

    /// Forgets every destination (the kernel's table is read again for the
    /// next new one); the counters are kept.
    void clear();

private:
    // The connect drivers and the tests reach these through
    // detail::path_memory_access.
    friend struct detail::path_memory_access;

    // Advice for one connect. Where the destination is new, the kernel's
    // table is due for a read and may be read (`may_read_kernel`), the
    // advice is only to read it: `read_kernel_table`.
    detail::path_advice advise(const boost::asio::ip::tcp::endpoint& destination, bool may_hedge,
                               bool may_read_kernel);

    // Reads the kernel's tcp_metrics table where the last read is older
    // than `kernel_read_interval`, outside the lock; the next `advise` seeds
    // a new destination's record from it.
    void read_kernel_table();

    // What one attempt taught.
    void report(const boost::asio::ip::tcp::endpoint& destination, const detail::path_event& event);

    // Replaces the clock of the back-off times; an empty function restores
    // `steady_clock::now`.
    void set_clock(std::function<clock_type::time_point()> now);

    void shutdown() override;

    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace tfo

#endif
