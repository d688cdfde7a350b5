//
// tfo: TCP Fast Open for Boost.Asio
//
// The socket-level steps of a fast-open connect, free of Asio's templates so
// that they compile once (src/first_send.cpp) and so that the decision they
// make can be tested without a network.
//

#ifndef TFO_DETAIL_FIRST_SEND_HPP
#define TFO_DETAIL_FIRST_SEND_HPP

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <sys/socket.h>
#include <sys/uio.h>

namespace tfo::detail {

/// What the first sendmsg(MSG_FASTOPEN) means for the rest of the operation.
enum class first_send_outcome
{
    /// The SYN is on its way, carrying `bytes` of the data (0 when the kernel
    /// had no cookie and the SYN asks for one). Wait until the socket is
    /// writable, check SO_ERROR, then write the rest.
    syn_sent,

    /// Fast Open is not possible here (client bit off, or no kernel support):
    /// nothing was sent. Connect and write the ordinary way.
    fall_back,

    /// The connect failed at once with `ec`; nothing was sent.
    failed
};

struct first_send_result
{
    first_send_outcome outcome = first_send_outcome::failed;
    std::size_t bytes = 0;
    boost::system::error_code ec;
};

/// Interprets the return value and errno of a non-blocking
/// sendmsg(MSG_FASTOPEN) on an unconnected TCP socket.
first_send_result classify_first_send(long result, int error_number) noexcept;

/// Sends the SYN with as much of `iov` as the kernel puts in it, without
/// blocking, and classifies the result. Retries on EINTR.
first_send_result send_first(int native_handle, const void* address, socklen_t address_length,
                             const iovec* iov, std::size_t iov_count) noexcept;

/// The outcome of a connect that was in flight, read from SO_ERROR once the
/// socket reported writable.
boost::system::error_code connect_result(int native_handle) noexcept;

} // namespace tfo::detail

#endif
