//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/detail/connect_steps.hpp>

#include <boost/asio/error.hpp>

#include <cerrno>

namespace tfo::detail {

syn_send_result classify_syn_send(long result, int error_number) noexcept
{
    if (result >= 0)
        return {syn_send_outcome::syn_sent, static_cast<std::size_t>(result), {}};

    switch (error_number)
    {
    case EINPROGRESS:
        // No byte went into the SYN: no cookie yet (the SYN asks for one), or
        // nothing to send. The handshake is under way all the same.
        return {syn_send_outcome::syn_sent, 0, {}};
    case EOPNOTSUPP:
        // The client bit of net.ipv4.tcp_fastopen is clear; the kernel
        // refused before touching the socket.
        return {syn_send_outcome::fall_back, 0, {}};
    default:
        return {syn_send_outcome::failed, 0, {error_number, boost::system::system_category()}};
    }
}

handshake_outcome outcome_of_connect_error(const boost::system::error_code& ec) noexcept
{
    // Linux's tcp_reset(): ECONNREFUSED in SYN-SENT, EPIPE in CLOSE-WAIT,
    // ECONNRESET in every other synchronised state.
    const bool reset_after_handshake =
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe;
    return {ec, !ec || reset_after_handshake};
}

} // namespace tfo::detail
