//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_FAST_OPEN_INFO_HPP
#define TFO_FAST_OPEN_INFO_HPP

#include <tfo/detail/platform.hpp>

#include <boost/system/error_code.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace tfo {

/// Why the kernel did not send data in a client's SYN, or why the server did
/// not take it (`tcpi_fastopen_client_fail`, Linux 5.5; older kernels always
/// report `unspecified`).
enum class client_failure : std::uint8_t
{
    /// No failure was recorded, or the kernel does not say.
    unspecified = 0,

    /// The client had no cookie for this server yet: the SYN asked for one.
    cookie_unavailable = 1,

    /// The server's SYN-ACK did not acknowledge the data in the SYN; the
    /// kernel sent it again after the handshake.
    data_not_acked = 2,

    /// The SYN was retransmitted, and the retransmission carries no data
    /// (a middlebox may be dropping SYNs with data).
    syn_retransmitted = 3
};

/// A short English description of a `client_failure`, such as "cookie unavailable".
std::string_view to_string(client_failure f) noexcept;

/// The TCP state of a socket as the kernel reports it (`tcpi_state`; the
/// values of Linux's `TCP_ESTABLISHED` ... `TCP_NEW_SYN_RECV`).
enum class tcp_state : std::uint8_t
{
    unknown = 0,      ///< Not reported (no kernel support).
    established = 1,  ///< The handshake completed.
    syn_sent = 2,     ///< A client's SYN is outstanding.
    syn_recv = 3,     ///< A server answered a SYN and waits for the final ACK.
    fin_wait1 = 4,
    fin_wait2 = 5,
    time_wait = 6,
    close = 7,        ///< Closed, or never connected.
    close_wait = 8,   ///< The peer closed its side.
    last_ack = 9,
    listen = 10,
    closing = 11,
    new_syn_recv = 12
};

/// What the kernel knows about TCP Fast Open on one connection, read with
/// `TCP_INFO`.
///
/// On a client socket, `syn_data_acked` says whether the data sent in the
/// SYN was acknowledged by the SYN-ACK, which is what saves the round trip;
/// when it was not, `failure` says why. On a socket returned by `accept`,
/// `syn_data_acked` says whether the connection opened with data in the SYN.
struct fast_open_info
{
    /// The SYN carried data and it was accepted with the handshake.
    bool syn_data_acked = false;

    /// Server side: the connection was created by the Fast Open path
    /// (`TCPI_OPT_TFO_CHILD`, Linux 6.10; always false before). True even
    /// for a cookie-less Fast Open SYN that carried no data.
    bool fast_open_child = false;

    /// Client side: why data did not ride in the SYN.
    client_failure failure = client_failure::unspecified;

    /// The connection's TCP state when it was read.
    tcp_state state = tcp_state::unknown;
};

namespace detail {

// Any Asio socket: what get_fast_open_info needs of it. Asio's headers are not
// included here, so that this header also works beside <linux/tcp.h>, which
// clashes with the <netinet/tcp.h> that Asio's socket headers bring in.
// Asio's native_handle() is not const, so a const socket is read through a
// non-const view: getting a descriptor changes nothing.
template <typename Socket>
concept native_socket = requires(std::remove_const_t<Socket>& s) {
    { s.is_open() } -> std::convertible_to<bool>;
    { s.native_handle() } -> std::convertible_to<platform::native_socket>;
};

// A layered stream (asio::ssl::stream, tfo::fast_open_stream, ...) whose
// lowest layer is a socket.
template <typename Stream>
concept layered_socket_stream = !native_socket<Stream> && requires(Stream& s) {
    requires native_socket<std::remove_reference_t<decltype(s.lowest_layer())>>;
};

} // namespace detail

/// Reads the TCP Fast Open state of a connected socket.
///
/// @param socket A TCP socket (`boost::asio::ip::tcp::socket` or any
/// `basic_socket<tcp, Executor>`, const or not) that is connecting,
/// connected, or was returned by `accept`; or a layered stream over one
/// (`tfo::fast_open_stream`, `boost::asio::ssl::stream<...>`), read through
/// its `lowest_layer()`.
/// @throws boost::system::system_error with `boost::asio::error::bad_descriptor`
/// when the socket is closed, `tfo::error::not_a_connection` when it is
/// listening or was never connected, `tfo::error::not_supported` off Linux.
///
/// @par Example
/// @code
/// auto info = tfo::get_fast_open_info(socket);
/// if (!info.syn_data_acked)
///     std::cout << "no TFO: " << tfo::to_string(info.failure) << '\n';
/// @endcode
template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
fast_open_info get_fast_open_info(Socket& socket);

/// Reads the TCP Fast Open state of a connected socket; errors as above, in `ec`.
template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
fast_open_info get_fast_open_info(Socket& socket, boost::system::error_code& ec);

} // namespace tfo

#include <tfo/impl/fast_open_info.hpp>

#endif
