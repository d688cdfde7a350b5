//
// tfo: TCP Fast Open for Boost.Asio
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

/// What the kernel says about a connection attempt once its wait ended:
/// the pending error, and whether the peer ever completed the handshake.
struct handshake_outcome
{
    /// The socket's pending error (`SO_ERROR`), or the wait's own error when
    /// the kernel has none (`operation_aborted` after a cancellation).
    boost::system::error_code ec;

    /// The peer answered the SYN and the connection was established, even if
    /// it was reset since: what went out on it, SYN data included, was
    /// delivered.
    bool established = false;
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
