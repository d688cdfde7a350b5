//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// What the system steps of a fast-open connect report: the SYN, sent with as
// much of the data as the kernel puts in it, and the handshake's outcome. The
// system calls are behind the platform seam (detail/platform.hpp); what their
// results mean is decided in plain functions, tested without a network.
//

#ifndef TFO_DETAIL_CONNECT_STEPS_HPP
#define TFO_DETAIL_CONNECT_STEPS_HPP

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>

namespace tfo::detail {

/// What sending the SYN means for the rest of the operation.
enum class syn_send_outcome
{
    /// The SYN is on its way, carrying `bytes` of the data (0 when the kernel
    /// had no cookie and the SYN asks for one). Wait until the socket is
    /// writable, read the outcome, then write the rest.
    syn_sent,

    /// Fast Open is not possible here (client bit off, no kernel support, not
    /// this platform): nothing was sent. Connect and write the ordinary way.
    fall_back,

    /// The connect failed at once with `ec`; nothing was sent.
    failed
};

struct syn_send_result
{
    syn_send_outcome outcome = syn_send_outcome::failed;
    std::size_t bytes = 0;
    boost::system::error_code ec;
};

/// Why the kernel did not put data in a SYN or the peer did not take it
/// (the values of `tcpi_fastopen_client_fail`, as `tfo::client_failure`).
enum class syn_failure : std::uint8_t
{
    none = 0,
    cookie_unavailable = 1,
    data_not_acked = 2,
    syn_retransmitted = 3
};

/// What the kernel recorded about a connection's SYN, read from `TCP_INFO`
/// once the handshake had an answer: what the path memory learns from it.
struct syn_evidence
{
    bool read = false;             ///< the platform read it (false: nothing is known)
    bool data_acked = false;       ///< the SYN's data was acknowledged
    syn_failure failure = syn_failure::none;
    bool retransmitted = false;    ///< some SYN of this connection was sent again
    std::uint32_t rtt_us = 0;      ///< the kernel's smoothed RTT (0: no sample)
};

/// What the kernel says about a connection attempt once its wait ended:
/// the pending error, and whether the peer ever completed the handshake.
struct handshake_outcome
{
    handshake_outcome() = default;
    handshake_outcome(const boost::system::error_code& e, bool est, const syn_evidence& s = {}) noexcept
        : ec(e), established(est), syn(s)
    {
    }

    /// The socket's pending error (`SO_ERROR`), or the wait's own error when
    /// the kernel has none (`operation_aborted` after a cancellation).
    boost::system::error_code ec;

    /// The peer answered the SYN and the connection was established, even if
    /// it was reset since: what went out on it, SYN data included, was
    /// delivered.
    bool established = false;

    /// The SYN's fate, where the platform read it.
    syn_evidence syn;

    /// The SYN has had no answer yet: the wake-up that led here was stale
    /// (readiness left over from a reactor slot's earlier descriptor, or a
    /// spurious one). Nothing happened: wait again.
    bool unanswered = false;

    /// The outcome of a wake-up that the kernel's state contradicts.
    static handshake_outcome still_unanswered() noexcept
    {
        handshake_outcome h;
        h.unanswered = true;
        return h;
    }
};

/// What the path memory advises for one connect to one destination
/// (detail/path_record.hpp decides it).
struct path_advice
{
    // The wider members first: an operation holds one, and moves it at every step.

    /// Where the path memory keeps this destination's record, handed back
    /// with the report so that it finds the record without a lookup while it
    /// is still there (0: nowhere).
    std::uint64_t record = 0;

    /// When the fast-open SYN has had no answer after this long, race a plain
    /// connect against it on a second socket; 0: no hedge.
    std::uint32_t hedge_delay_us = 0;

    /// Put data (or a cookie request) in the SYN; false: a plain connect,
    /// with no Fast Open option in the SYN at all.
    bool fast_open = true;

    /// This Fast Open attempt probes a destination that lost a SYN before.
    bool probe = false;

    /// Hedge a SYN that carries only a cookie request (no data) too. False
    /// where such a SYN was answered at once before: the path passes the
    /// option, and a server that never gives a cookie costs no timer and no
    /// second socket per connect.
    bool hedge_cookie_request = true;

    /// A reset in answer to a SYN with data is retried once with a plain
    /// connect: the destination accepted connections before.
    bool retry_plain_after_reset = false;

    /// Read the SYN's evidence after a plain connect too (the path memory
    /// wants to know whether plain SYNs are lost as well).
    bool observe_plain = false;

    /// The path memory has never seen this destination and its read of the
    /// kernel's `tcp_metrics` table is due: read it first (netlink, never in
    /// an initiating function), then ask again. The other fields are not set.
    bool read_kernel_record = false;
};

/// What one connection attempt taught about its destination, for the path
/// memory.
enum class path_event_kind : std::uint8_t
{
    none,              ///< nothing to learn (cancelled, refused, no evidence)
    fast_open_acked,   ///< the SYN's data was acknowledged
    cookie_answered,   ///< a SYN with the Fast Open option but no data was answered at once
    syn_lost,          ///< a SYN with the Fast Open option was sent again
    data_refused,      ///< the SYN's data was not acknowledged (no loss)
    reset_on_syn_data, ///< a SYN with data was reset, a plain SYN accepted
    plain_answered,    ///< a plain SYN was answered at once
    plain_lost,        ///< a plain SYN was sent again: the path loses SYNs of any kind
    hedge_won          ///< the fast-open SYN had no answer in time; the plain hedge won
};

struct path_event
{
    path_event_kind kind = path_event_kind::none;
    bool hedge_started = false;
    std::uint32_t rtt_us = 0; ///< a round-trip sample, 0 when none
    /// `path_advice::record` of the advice this attempt followed.
    std::uint64_t record = 0;
};

/// The outcome of a connect that ended with `ec`, when that is all there is
/// to go by: a reset (`ECONNRESET`, `EPIPE`) comes only after the peer
/// established the connection; a reset in SYN-SENT is `connection_refused`.
handshake_outcome outcome_of_connect_error(const boost::system::error_code& ec) noexcept;

/// Interprets the return value and errno of a non-blocking
/// sendmsg(MSG_FASTOPEN) on an unconnected TCP socket (Linux).
syn_send_result classify_syn_send(long result, int error_number) noexcept;

} // namespace tfo::detail

#endif
