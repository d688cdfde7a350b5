//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_MULTIPATH_HPP
#define TFO_MULTIPATH_HPP

#include <tfo/detail/platform.hpp>
#include <tfo/fast_open_info.hpp>

#include <boost/system/error_code.hpp>

#include <concepts>
#include <cstdint>
#include <type_traits>

namespace tfo {

/// What `open_multipath` opened: a Multipath TCP socket, or a TCP one and why.
struct multipath_open_result
{
    /// The socket was opened as Multipath TCP (`IPPROTO_MPTCP`).
    bool multipath = false;

    /// Why it was opened as TCP instead (clear when `multipath`):
    /// `tfo::error::multipath_disabled` when `net.mptcp.enabled` is 0 in this
    /// network namespace, `tfo::error::multipath_unavailable` on a kernel
    /// without MPTCP or another platform.
    boost::system::error_code fallback;

    /// `multipath`.
    explicit operator bool() const noexcept { return multipath; }
};

namespace detail {

// What open_multipath needs of a socket or an acceptor: Asio's basic_socket
// and basic_socket_acceptor, whose assign() adopts a descriptor.
template <typename Socket, typename Protocol>
concept adoptable_socket =
    requires(Socket& s, const Protocol& p, platform::native_socket fd, boost::system::error_code& ec) {
        { s.is_open() } -> std::convertible_to<bool>;
        s.open(p, ec);
        s.assign(p, fd, ec);
        { p.family() } -> std::convertible_to<int>;
    };

template <typename Stream, typename Protocol>
concept layered_adoptable_socket = !adoptable_socket<Stream, Protocol> && requires(Stream& s) {
    requires adoptable_socket<std::remove_reference_t<decltype(s.lowest_layer())>, Protocol>;
};

} // namespace detail

/// Opens a socket or an acceptor as Multipath TCP (RFC 8684), or as TCP
/// where Multipath TCP cannot be had, as `open(protocol)` would.
///
/// Everything else stays as for TCP: the Asio types (`tcp::socket`,
/// `tcp::acceptor`), `bind`, `listen`, `tfo::fast_open`,
/// `tfo::fast_open_key`, `async_accept` (accepted sockets are Multipath TCP
/// when the client's is), `tfo::async_fastopen_connect` and
/// `tfo::fast_open_stream` (which reopen it as Multipath TCP for each
/// further endpoint), Beast and `asio::ssl`. Fast Open on Multipath TCP
/// needs Linux 6.2 on both ends.
///
/// The kernel itself falls back to TCP when the peer does not speak
/// Multipath TCP; `tfo::get_multipath_info` says what a connection uses.
///
/// @param socket A closed `basic_socket<tcp, Executor>` or
/// `basic_socket_acceptor<tcp, Executor>`, or a layered stream over one
/// (`tfo::fast_open_stream`), opened through its `lowest_layer()`.
/// @param protocol `tcp::v4()` or `tcp::v6()`.
/// @param ec Set only when the socket could not be opened at all (then it
/// stays closed); `boost::asio::error::already_open` when it was open.
/// @returns Whether the socket is Multipath TCP, and if not, why.
///
/// @par Example
/// @code
/// tcp::acceptor acceptor(io);
/// tfo::open_multipath(acceptor, tcp::v4()); // was: acceptor.open(tcp::v4());
/// acceptor.set_option(tfo::fast_open{16});
/// acceptor.bind({tcp::v4(), 8080});
/// acceptor.listen();
/// @endcode
template <typename Socket, typename Protocol>
    requires detail::adoptable_socket<Socket, Protocol> || detail::layered_adoptable_socket<Socket, Protocol>
multipath_open_result open_multipath(Socket& socket, const Protocol& protocol, boost::system::error_code& ec);

/// Opens a socket or an acceptor as Multipath TCP, or as TCP; as above.
/// @throws boost::system::system_error when the socket could not be opened
/// at all. A fallback to TCP is no error: it is in the result.
template <typename Socket, typename Protocol>
    requires detail::adoptable_socket<Socket, Protocol> || detail::layered_adoptable_socket<Socket, Protocol>
multipath_open_result open_multipath(Socket& socket, const Protocol& protocol);

/// What the kernel says about Multipath TCP on one socket.
///
/// A socket opened as Multipath TCP whose peer does not speak it (or whose
/// handshake lost the MPTCP option on the way) falls back to TCP:
/// `opened_multipath` stays true and `active` turns false.
struct multipath_info
{
    /// The socket was opened as Multipath TCP, or accepted on such a listener
    /// from a Multipath TCP client (`SO_PROTOCOL` is `IPPROTO_MPTCP`).
    bool opened_multipath = false;

    /// The socket uses Multipath TCP now (`TCP_IS_MPTCP`): a connection whose
    /// handshake agreed on it, or a listener or unconnected socket that will try.
    bool active = false;

    /// The number of subflows (TCP connections) the connection has now, the
    /// first included; 0 when not `active`.
    unsigned subflows = 0;

    /// Bytes the connection sent again at the Multipath TCP level, for
    /// example on another subflow after one stalled (Linux 6.6; 0 before).
    std::uint64_t bytes_retransmitted = 0;

    /// Opened as Multipath TCP, speaking TCP now.
    bool fell_back() const noexcept { return opened_multipath && !active; }
};

/// Reads what the kernel says about Multipath TCP on a socket.
///
/// @param socket Any open TCP socket or acceptor (const or not), or a layered
/// stream over one, read through its `lowest_layer()`.
/// @throws boost::system::system_error with `boost::asio::error::bad_descriptor`
/// when the socket is closed. Off Linux every socket is TCP.
///
/// @par Example
/// @code
/// auto info = tfo::get_multipath_info(socket);
/// if (info.fell_back())
///     std::cout << "the peer speaks TCP only\n";
/// else if (info.active)
///     std::cout << info.subflows << " subflows\n";
/// @endcode
template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
multipath_info get_multipath_info(Socket& socket);

/// Reads what the kernel says about Multipath TCP on a socket; errors as above, in `ec`.
template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
multipath_info get_multipath_info(Socket& socket, boost::system::error_code& ec);

} // namespace tfo

#include <tfo/impl/multipath.hpp>

#endif
