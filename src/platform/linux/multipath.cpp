//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam on Linux, Multipath TCP: IPPROTO_MPTCP sockets,
// SO_PROTOCOL, TCP_IS_MPTCP and MPTCP_INFO.
//

#include <tfo/detail/linux_tcp.hpp>
#include <tfo/detail/platform.hpp>
#include <tfo/error.hpp>
#include <tfo/multipath.hpp>

#include <cerrno>
#include <cstddef>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tfo::detail::platform {

namespace {

bool get_int_option(native_socket s, int level, int name, int& value) noexcept
{
    socklen_t size = sizeof value;
    return ::getsockopt(s, level, name, &value, &size) == 0;
}

} // namespace

native_socket open_multipath_socket(int family, boost::system::error_code& fallback) noexcept
{
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, ipproto_mptcp);
    if (fd >= 0)
    {
        fallback.clear();
        return fd;
    }
    switch (errno)
    {
    case ENOPROTOOPT: // net.mptcp.enabled = 0 in this namespace
        fallback = error::multipath_disabled;
        break;
    case EPROTONOSUPPORT: // built without CONFIG_MPTCP (or CONFIG_MPTCP_IPV6)
    case EINVAL:          // before Linux 5.6, protocols stopped at 255
        fallback = error::multipath_unavailable;
        break;
    default:
        fallback.assign(errno, boost::system::system_category());
    }
    return -1;
}

void close_socket(native_socket s) noexcept
{
    ::close(s);
}

bool opened_as_multipath(native_socket s) noexcept
{
    int protocol = 0;
    return get_int_option(s, SOL_SOCKET, SO_PROTOCOL, protocol) && protocol == ipproto_mptcp;
}

multipath_info read_multipath_info(native_socket s, boost::system::error_code& ec)
{
    int protocol = 0;
    if (!get_int_option(s, SOL_SOCKET, SO_PROTOCOL, protocol))
    {
        ec.assign(errno, boost::system::system_category());
        return {};
    }
    ec.clear();
    multipath_info info;
    info.opened_multipath = protocol == ipproto_mptcp;
    if (!info.opened_multipath)
        return info;
    // After a fallback the kernel answers for the TCP subflow: TCP_IS_MPTCP
    // is 0 and MPTCP_INFO fails (EOPNOTSUPP).
    int is_mptcp = 0;
    info.active = get_int_option(s, IPPROTO_TCP, tcp_is_mptcp_option, is_mptcp) && is_mptcp == 1;
    mptcp_info_prefix raw{};
    socklen_t size = sizeof raw;
    if (!info.active || ::getsockopt(s, sol_mptcp, mptcp_info_option, &raw, &size) != 0)
        return info;
    if (size > offsetof(mptcp_info_prefix, subflows_total))
        info.subflows = raw.subflows_total;
    else if (raw.flags != 0) // connected (a key exchanged): the first subflow plus those added
        info.subflows = raw.subflows + 1u;
    info.bytes_retransmitted = raw.bytes_retrans;
    return info;
}

bool multipath_takes_fast_open() noexcept
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, ipproto_mptcp);
    if (fd < 0)
        return false;
    // The listener's option (Linux 6.2) and the client's (6.1).
    const int queue = 1, on = 1;
    const bool takes = ::setsockopt(fd, IPPROTO_TCP, tcp_fastopen_option, &queue, sizeof queue) == 0 &&
                       ::setsockopt(fd, IPPROTO_TCP, tcp_fastopen_connect_option, &on, sizeof on) == 0;
    ::close(fd);
    return takes;
}

} // namespace tfo::detail::platform
