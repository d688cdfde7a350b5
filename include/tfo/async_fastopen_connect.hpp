//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_ASYNC_FASTOPEN_CONNECT_HPP
#define TFO_ASYNC_FASTOPEN_CONNECT_HPP

#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>

namespace tfo {

/// Connects a socket and writes `buffers`, putting the first of them in the
/// SYN with TCP Fast Open.
///
/// On a repeat connection to a server that supports Fast Open, the request
/// leaves with the SYN and the reply can arrive one round trip sooner. On
/// the first connection the SYN asks the server for a cookie instead, and
/// where Fast Open is not possible (client bit of `net.ipv4.tcp_fastopen`
/// off, no kernel support, another platform) the operation connects and
/// writes the ordinary way. In every case, on success the connection is
/// established and every byte of `buffers` has been handed to the kernel.
///
/// The socket is opened with the endpoint's protocol when it is closed, and
/// used as it is, options included, when it is open but unconnected.
///
/// Data in a SYN can be delivered twice (a duplicated SYN, a replay by an
/// attacker, a SYN delayed past a hedge). Send only requests that are safe
/// to repeat.
///
/// @par Path memory and hedge
/// The operation asks the `tfo::path_memory` of the socket's execution
/// context how to connect to the endpoint, and tells it what the kernel
/// reported about the SYN. Where SYNs with the Fast Open option were lost,
/// it connects the ordinary way (no Fast Open option in the SYN) for a
/// back-off period, then probes. Until a destination has acknowledged SYN
/// data once, a fast-open SYN that has no answer after the hedge delay (a
/// few round trips, from the kernel's or the library's own RTT) is raced by
/// an ordinary connect to the same endpoint on a second socket: the first
/// connection established carries `buffers`, the other is closed, and
/// `socket` holds the winner when the handler runs. The second socket is a
/// new one: options set on `socket` before the call are not on it. A reset
/// in answer to SYN data, from a destination that accepted connections
/// before, is retried once with an ordinary connect (the socket is opened
/// again). See `tfo::path_memory` for what is kept and why.
///
/// @par Bytes written
/// The count the operation reports, on success and on failure alike, is the
/// number of bytes that went out on a connection the peer established: the
/// SYN's data once the peer answered that SYN (the kernel's `SO_ERROR` and
/// `TCP_INFO` say so, even when the connection was reset right after), and
/// everything written after the handshake. Data that left in a SYN the peer
/// never answered is not counted: no connection received it. Once a
/// connection was established, no other endpoint is tried and no byte is
/// sent again. When the hedge wins, the count is what went out on the
/// hedge's connection, all of `buffers` on success: the silent SYN's data
/// is not counted, although that SYN may still reach the server later (its
/// socket is closed, so the server sees the data and then a reset), which
/// is the contract of any data in a SYN.
///
/// @param socket The socket to connect. It must stay alive, and must not be
/// moved, until the operation completes (a moved-from socket fails the
/// operation with `bad_descriptor` while the moved-to one holds the
/// connection). After a failure it is left open in an unspecified state:
/// close it before using it again.
///
/// @param endpoint The peer to connect to.
///
/// @param buffers The data to send, possibly empty (then the operation is a
/// plain connect that still asks for a cookie). The sequence object is
/// copied; the memory it refers to must stay valid until completion.
///
/// @param token The completion token. The completion signature is
/// @code
/// void(boost::system::error_code ec, std::size_t bytes_written)
/// @endcode
/// `bytes_written` as defined above: `boost::asio::buffer_size(buffers)` on
/// success.
///
/// @par Errors
/// - `boost::asio::error::already_connected`: the socket was connected; nothing was sent.
/// - `boost::asio::error::address_family_not_supported`: the socket is open
///   with another protocol than the endpoint's; nothing was sent.
/// - `boost::asio::error::operation_aborted`: the operation was cancelled.
/// - `boost::asio::error::connection_reset`: the peer established the
///   connection, then reset it; `bytes_written` says what it was sent.
/// - any other error of connect or write, such as `connection_refused`.
///
/// @par Per-Operation Cancellation
/// This asynchronous operation supports cancellation for the following
/// `boost::asio::cancellation_type` values:
/// - `terminal` and `partial`, at every stage;
/// - `total` only while no byte of `buffers` has left the host: during a
///   plain connect, while a SYN that carries no data (a cookie request)
///   waits for its answer, and before the first write. Once data went out
///   in a SYN or a write, it cannot be undone, and a `total` request is
///   ignored.
/// `socket.cancel()` and `socket.close()` cancel it too. It completes with
/// `operation_aborted` and the true `bytes_written`. After `close()` the
/// kernel's record of the connection is gone with the descriptor, so data in
/// a SYN whose answer had not been seen yet is not counted; cancel through
/// the slot or `cancel()` when the count matters. A cancelled SYN may still
/// reach the server later, like any data in a SYN.
///
/// @par Completion
/// The handler is never called from within this function; it runs through
/// its associated executor. The associated allocator is used for
/// intermediate storage. No thread is started and nothing blocks.
///
/// @par Example
/// @code
/// auto [ec, n] = co_await tfo::async_fastopen_connect(
///     socket, endpoint, boost::asio::buffer(request),
///     boost::asio::as_tuple(boost::asio::use_awaitable));
/// @endcode
template <typename Executor, typename ConstBufferSequence,
          typename CompletionToken = boost::asio::default_completion_token_t<Executor>>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                            const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers,
                            CompletionToken&& token = boost::asio::default_completion_token_t<Executor>());

/// Tries each endpoint of a sequence in turn, like `boost::asio::async_connect`,
/// with a fast-open connect that writes `buffers`.
///
/// The socket is closed and opened again before each endpoint but the first,
/// so options set on it apply to the first attempt only. An endpoint that
/// refuses or cannot be reached moves the operation to the next one. Once a
/// connection was established, the sequence ends there: an error after that
/// point (a reset, a failed write) ends the operation, so the data is never
/// sent to a second endpoint. Everything else is as for the single-endpoint
/// overload, `bytes_written` included.
///
/// @param endpoints An EndpointSequence, such as `tcp::resolver::results_type`.
/// It is copied.
///
/// @param token The completion token. The completion signature is
/// @code
/// void(boost::system::error_code ec, boost::asio::ip::tcp::endpoint connected_to, std::size_t bytes_written)
/// @endcode
/// `connected_to` is the endpoint whose connection was established, also
/// when an error followed (it then says where `bytes_written` went), and a
/// default-constructed endpoint when none was. An empty sequence completes
/// with `boost::asio::error::not_found`; when every endpoint failed, the
/// error is the last endpoint's.
///
/// @par Per-Operation Cancellation
/// As above; cancellation stops the whole sequence.
template <typename Executor, typename EndpointSequence, typename ConstBufferSequence,
          typename CompletionToken = boost::asio::default_completion_token_t<Executor>>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value)) &&
             boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                            const EndpointSequence& endpoints, const ConstBufferSequence& buffers,
                            CompletionToken&& token = boost::asio::default_completion_token_t<Executor>());

/// Connects and writes `buffers`, putting the first of them in the SYN; blocks
/// until done. Behaves as `async_fastopen_connect`, path memory included,
/// except that it never hedges: a blocking call has no second operation to
/// race (a lost SYN costs the kernel's retransmission timeout once, then the
/// back-off applies).
/// @returns The number of bytes written: `boost::asio::buffer_size(buffers)`.
/// @throws boost::system::system_error on failure.
///
/// Like every synchronous Asio operation, it reports `would_block` when the
/// user made the socket non-blocking (`socket.non_blocking(true)`).
template <typename Executor, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                             const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers);

/// Connects and writes `buffers`, putting the first of them in the SYN; blocks
/// until done. Behaves as `async_fastopen_connect`.
/// @returns The number of bytes written, as `async_fastopen_connect` defines
/// it: on failure, how many went out on a connection the peer established,
/// SYN data included when the peer answered the SYN (0 when none was).
template <typename Executor, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                             const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers,
                             boost::system::error_code& ec);

/// What `fastopen_connect` over an endpoint sequence did.
struct fastopen_connect_result
{
    /// The endpoint whose connection was established, also when an error
    /// followed (it then says where `bytes_written` went); a
    /// default-constructed endpoint when none was.
    boost::asio::ip::tcp::endpoint endpoint;

    /// The number of bytes written, as `async_fastopen_connect` defines it.
    std::size_t bytes_written = 0;
};

/// Tries each endpoint of a sequence in turn, like `boost::asio::connect`,
/// with a fast-open connect that writes `buffers`; blocks until done.
/// Behaves as the asynchronous endpoint-sequence overload (the socket is
/// reopened between endpoints, the sequence ends once a connection was
/// established, an empty sequence is `boost::asio::error::not_found`, and
/// when every endpoint failed the error is the last one's), except that it
/// never hedges.
/// @returns Where the connection was established, and how many bytes were
/// written: `boost::asio::buffer_size(buffers)`.
/// @throws boost::system::system_error on failure.
///
/// @par Example
/// @code
/// auto [connected_to, n] = tfo::fastopen_connect(
///     socket, resolver.resolve("example.com", "80"), boost::asio::buffer(request));
/// @endcode
template <typename Executor, typename EndpointSequence, typename ConstBufferSequence>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value)) &&
             boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
fastopen_connect_result fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                                         const EndpointSequence& endpoints, const ConstBufferSequence& buffers);

/// As above, reporting failure in `ec`. The result then says where the
/// connection was established, if one was, and how many bytes went out on it.
template <typename Executor, typename EndpointSequence, typename ConstBufferSequence>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value)) &&
             boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
fastopen_connect_result fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                                         const EndpointSequence& endpoints, const ConstBufferSequence& buffers,
                                         boost::system::error_code& ec);

} // namespace tfo

#include <tfo/impl/async_fastopen_connect.hpp>

#endif
