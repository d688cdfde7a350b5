//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam where tfo has no Fast Open support: every connect is the
// ordinary one, the options fail with `no_protocol_option`, the evidence says
// "not supported". doc/design.md says how macOS, FreeBSD and Windows would
// plug in.
//

#include <tfo/detail/platform.hpp>
#include <boost/asio/error.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/path_memory.hpp>

#include <boost/asio/detail/socket_types.hpp> // Winsock or BSD sockets, in the order they need

#include <cerrno>

namespace tfo::detail::platform {

const bool has_fast_open = false;

syn_send_result send_syn(native_socket, const void*, std::size_t, const boost::asio::const_buffer*,
                         std::size_t) noexcept
{
    return {syn_send_outcome::fall_back, 0, {}};
}

handshake_outcome read_handshake_outcome(native_socket, const boost::system::error_code& wait_error) noexcept
{
    return outcome_of_connect_error(wait_error);
}

int socket_family(native_socket s, boost::system::error_code& ec) noexcept
{
#if defined(_WIN32)
    // getsockname fails with WSAEINVAL until the socket is bound (checked
    // under Wine); the protocol record names the family of any open socket.
    WSAPROTOCOL_INFOW info{};
    int size = sizeof(info);
    if (::getsockopt(static_cast<SOCKET>(s), SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &size) != 0)
    {
        ec.assign(::WSAGetLastError(), boost::system::system_category());
        return 0;
    }
    ec.clear();
    return info.iAddressFamily;
#else
    sockaddr_storage address{};
    socklen_t size = sizeof(address);
    if (::getsockname(s, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    {
        ec.assign(errno, boost::system::system_category());
        return 0;
    }
    ec.clear();
    return address.ss_family;
#endif
}

bool syn_answered(native_socket) noexcept
{
    return false; // never asked: there is no fast-open SYN to hedge here
}

syn_evidence read_syn_evidence(native_socket) noexcept
{
    return {};
}

kernel_path_record read_kernel_path_record(const unsigned char*, std::size_t, boost::system::error_code& ec)
{
    ec = error::not_supported;
    return {};
}

void dump_kernel_path_records(const kernel_path_visitor&, boost::system::error_code& ec)
{
    ec = error::not_supported;
}

fast_open_info read_fast_open_info(native_socket, boost::system::error_code& ec)
{
    ec = error::not_supported;
    return {};
}

option_id option_of(tcp_option) noexcept
{
    // IPPROTO_TCP is the IP protocol number, 6 everywhere. No system has a TCP
    // option named -1: setsockopt fails with ENOPROTOOPT (WSAENOPROTOOPT on
    // Windows, checked under Wine), which says what happened, where an invalid
    // level would only say "invalid argument".
    constexpr int ipproto_tcp = 6;
    return {ipproto_tcp, -1};
}

socket_identity listener_identity(native_socket, boost::system::error_code& ec) noexcept
{
    ec = error::not_supported; // key rotation needs TCP_FASTOPEN_KEY: Linux only
    return {};
}

void set_socket_option(native_socket, int, int, const void*, std::size_t, boost::system::error_code& ec) noexcept
{
    ec = boost::asio::error::operation_not_supported;
}

} // namespace tfo::detail::platform
