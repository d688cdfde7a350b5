//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam on Linux: MSG_FASTOPEN, SO_ERROR and TCP_INFO.
//

#include <tfo/detail/linux_tcp.hpp>
#include <tfo/detail/platform.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_info.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

namespace tfo::detail::platform {

namespace {

// Reads the first bytes of TCP_INFO, where all the Fast Open state lives
// (the prefix), or as far as the SYN's retransmissions (tcp_info_connect).
template <typename Raw>
bool read_tcp_info(native_socket s, Raw& raw, boost::system::error_code& ec) noexcept
{
    socklen_t len = sizeof(raw);
    if (::getsockopt(s, IPPROTO_TCP, tcp_info_option, &raw, &len) != 0)
    {
        ec.assign(errno, boost::system::system_category());
        return false;
    }
    if (len < sizeof(raw))
    {
        ec = error::not_supported;
        return false;
    }
    return true;
}

// Whether the kernel's record shows that the peer completed the handshake:
// a synchronised state, or a SYN-ACK that acknowledged (or did not
// acknowledge) the SYN's data, which the kernel notes only when one arrived.
bool reached_established(const tcp_info_prefix& raw) noexcept
{
    if (raw.state != tcp_state_syn_sent && raw.state != tcp_state_close)
        return true;
    return (raw.options & tcpi_opt_syn_data) != 0 ||
           raw.fastopen_client_fail == static_cast<std::uint8_t>(client_failure::data_not_acked);
}

syn_evidence evidence_of(const tcp_info_connect& raw) noexcept
{
    syn_evidence e;
    e.read = true;
    e.data_acked = (raw.prefix.options & tcpi_opt_syn_data) != 0;
    e.failure = static_cast<syn_failure>(raw.prefix.fastopen_client_fail);
    // Read right after the handshake: any retransmission so far is of the
    // SYN, or of SYN data the peer did not acknowledge.
    e.retransmitted = raw.total_retrans != 0;
    e.rtt_us = raw.rtt;
    return e;
}

} // namespace

const bool has_fast_open = true;

syn_send_result send_syn(native_socket s, const void* address, std::size_t address_length,
                         const boost::asio::const_buffer* buffers, std::size_t count) noexcept
{
    std::array<iovec, 64> iov;
    count = std::min(count, iov.size()); // what does not fit is written after the handshake
    for (std::size_t i = 0; i < count; ++i)
        iov[i] = {const_cast<void*>(buffers[i].data()), buffers[i].size()};

    msghdr msg{};
    msg.msg_name = const_cast<void*>(address);
    msg.msg_namelen = static_cast<socklen_t>(address_length);
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;

    // MSG_DONTWAIT: never block, whatever the descriptor's mode.
    // MSG_NOSIGNAL: a reset must be an error code, not SIGPIPE.
    const int flags = static_cast<int>(msg_fastopen) | MSG_DONTWAIT | MSG_NOSIGNAL;
    long result;
    do
        result = ::sendmsg(s, &msg, flags);
    while (result < 0 && errno == EINTR);
    return classify_syn_send(result, result < 0 ? errno : 0);
}

bool syn_answered(native_socket s) noexcept
{
    // Writable or in error once the SYN-ACK or a reset came in.
    pollfd p{s, POLLOUT, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
}

handshake_outcome read_handshake_outcome(native_socket s, const boost::system::error_code& wait_error) noexcept
{
    // Closed by the user: the kernel's record went with the descriptor.
    if (s < 0)
        return {wait_error ? wait_error : boost::asio::error::bad_descriptor, false, {}};

    // TCP_INFO first: on an established connection it is the only call
    // (no pending error there), and it says what happened to the SYN.
    tcp_info_connect raw; // read whole or not at all: no need to clear it
    boost::system::error_code ignored;
    const bool have_info = read_tcp_info(s, raw, ignored);
    if (have_info && !wait_error && raw.prefix.state == tcp_state_established)
        return {{}, true, evidence_of(raw)};
    // Readiness alone is not an answer: a stale or spurious wake-up finds the
    // SYN still outstanding (and SO_ERROR 0, so it must not be read as
    // established). Asio's own connect looks again for the same reason.
    if (have_info && !wait_error && raw.prefix.state == tcp_state_syn_sent)
        return handshake_outcome::still_unanswered();

    int pending = 0;
    socklen_t len = sizeof(pending);
    if (::getsockopt(s, SOL_SOCKET, SO_ERROR, &pending, &len) != 0)
        pending = errno;
    if (pending == 0 && !wait_error)
        return {{}, true, have_info ? evidence_of(raw) : syn_evidence{}}; // writable without an error

    handshake_outcome h = outcome_of_connect_error(
        pending != 0 ? boost::system::error_code(pending, boost::system::system_category()) : wait_error);
    if (have_info)
    {
        if (!h.established)
            h.established = reached_established(raw.prefix);
        if (h.established)
            h.syn = evidence_of(raw);
    }
    return h;
}

int socket_family(native_socket s, boost::system::error_code& ec) noexcept
{
    sockaddr_storage address{};
    socklen_t size = sizeof(address);
    if (::getsockname(s, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    {
        ec.assign(errno, boost::system::system_category());
        return 0;
    }
    ec.clear();
    return address.ss_family;
}

syn_evidence read_syn_evidence(native_socket s) noexcept
{
    tcp_info_connect raw; // read whole or not at all
    boost::system::error_code ignored;
    if (s < 0 || !read_tcp_info(s, raw, ignored))
        return {};
    return evidence_of(raw);
}

fast_open_info read_fast_open_info(native_socket s, boost::system::error_code& ec)
{
    tcp_info_prefix raw{};
    if (!read_tcp_info(s, raw, ec))
        return {};
    // A listener, or a socket that never sent a SYN, has no Fast Open state.
    // A connection that already ended is in CLOSE too, but still knows what happened.
    if (raw.state == tcp_state_listen || (raw.state == tcp_state_close && raw.options == 0))
    {
        ec = error::not_a_connection;
        return {};
    }
    ec.clear();
    fast_open_info info;
    info.syn_data_acked = (raw.options & tcpi_opt_syn_data) != 0;
    info.fast_open_child = (raw.options & tcpi_opt_tfo_child) != 0;
    info.failure = static_cast<client_failure>(raw.fastopen_client_fail);
    info.state = static_cast<tcp_state>(raw.state);
    return info;
}

option_id option_of(tcp_option option) noexcept
{
    switch (option)
    {
    case tcp_option::fast_open: return {IPPROTO_TCP, tcp_fastopen_option};
    case tcp_option::fast_open_deferred_connect: return {IPPROTO_TCP, tcp_fastopen_connect_option};
    case tcp_option::fast_open_key: return {IPPROTO_TCP, tcp_fastopen_key_option};
    case tcp_option::fast_open_no_cookie: return {IPPROTO_TCP, tcp_fastopen_no_cookie_option};
    }
    return {-1, 0};
}

socket_identity listener_identity(native_socket s, boost::system::error_code& ec) noexcept
{
    struct stat status{};
    if (s < 0 || ::fstat(s, &status) != 0)
    {
        ec = boost::asio::error::bad_descriptor;
        return {};
    }
    int listening = 0;
    socklen_t size = sizeof listening;
    if (::getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening)
    {
        ec = boost::asio::error::invalid_argument;
        return {};
    }
    ec.clear();
    return {static_cast<std::uint64_t>(status.st_dev), static_cast<std::uint64_t>(status.st_ino)};
}

void set_socket_option(native_socket s, int level, int name, const void* data, std::size_t size,
                       boost::system::error_code& ec) noexcept
{
    if (::setsockopt(s, level, name, data, static_cast<socklen_t>(size)) != 0)
        ec.assign(errno, boost::system::system_category());
    else
        ec.clear();
}

} // namespace tfo::detail::platform
