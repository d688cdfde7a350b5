//
// tfo: TCP Fast Open for Boost.Asio
//

#include <tfo/detail/first_send.hpp>
#include <tfo/detail/linux_tcp.hpp>

#include <cerrno>

namespace tfo::detail {

first_send_result classify_first_send(long result, int error_number) noexcept
{
    if (result >= 0)
        return {first_send_outcome::syn_sent, static_cast<std::size_t>(result), {}};

    switch (error_number)
    {
    case EINPROGRESS:
        // No byte went into the SYN: no cookie yet (the SYN asks for one), or
        // nothing to send. The handshake is under way all the same.
        return {first_send_outcome::syn_sent, 0, {}};
    case EOPNOTSUPP:
        // The client bit of net.ipv4.tcp_fastopen is clear; the kernel
        // refused before touching the socket.
        return {first_send_outcome::fall_back, 0, {}};
    default:
        return {first_send_outcome::failed, 0, {error_number, boost::system::system_category()}};
    }
}

#if defined(__linux__)
first_send_result send_first(int native_handle, const void* address, socklen_t address_length,
                             const iovec* iov, std::size_t iov_count) noexcept
{
    msghdr msg{};
    msg.msg_name = const_cast<void*>(address);
    msg.msg_namelen = address_length;
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = iov_count;

    // MSG_DONTWAIT: never block, whatever the descriptor's mode.
    // MSG_NOSIGNAL: a reset must be an error code, not SIGPIPE.
    const int flags = static_cast<int>(msg_fastopen) | MSG_DONTWAIT | MSG_NOSIGNAL;
    long result;
    do
        result = ::sendmsg(native_handle, &msg, flags);
    while (result < 0 && errno == EINTR);
    return classify_first_send(result, result < 0 ? errno : 0);
}
#else
// No MSG_FASTOPEN here: connect and write the ordinary way.
first_send_result send_first(int, const void*, socklen_t, const iovec*, std::size_t) noexcept
{
    return {first_send_outcome::fall_back, 0, {}};
}
#endif

boost::system::error_code connect_result(int native_handle) noexcept
{
    int value = 0;
    socklen_t len = sizeof(value);
    if (::getsockopt(native_handle, SOL_SOCKET, SO_ERROR, &value, &len) != 0)
        return {errno, boost::system::system_category()};
    if (value != 0)
        return {value, boost::system::system_category()};
    return {};
}

} // namespace tfo::detail
