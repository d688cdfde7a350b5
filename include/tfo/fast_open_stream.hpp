//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_FAST_OPEN_STREAM_HPP
#define TFO_FAST_OPEN_STREAM_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <type_traits>

namespace tfo {

namespace detail {
template <typename Executor>
struct fast_open_stream_impl;
} // namespace detail

/// A TCP stream that connects on its first operation, and whose first write
/// is a `tfo::async_fastopen_connect`: the bytes of that write ride in the SYN.
///
/// Give it where to connect (an endpoint, or resolver results) and use it as
/// any Asio stream: it meets the AsyncReadStream, AsyncWriteStream,
/// SyncReadStream and SyncWriteStream requirements and is a layered stream
/// (`next_layer()`, `lowest_layer()`) over a `basic_stream_socket<tcp>`. It
/// is made for code that writes through a stream without knowing about the
/// SYN: `asio::ssl::stream` (the ClientHello rides in the SYN), Beast's
/// `http::async_write`, any protocol library.
///
/// - **Write first.** The first write is a fast-open connect with that
///   write's buffers, which behaves as `tfo::async_fastopen_connect` over an
///   endpoint sequence (also for one endpoint, and also for the synchronous
///   `write_some`, which behaves as `tfo::fastopen_connect`): on a repeat
///   connection to a Fast Open server they leave in the SYN; otherwise the
///   SYN asks for a cookie and the bytes follow the handshake. The write
///   completes when every byte is written. A socket the user opened with
///   another address family than an endpoint's is reopened for it.
/// - **Read first.** A read before any write connects without data (the SYN
///   still asks for a cookie, or presents one), then reads: a protocol where
///   the server speaks first works on every connection.
/// - **Errors.** A connect error is reported by the operation that connects,
///   with `connect_endpoint()` naming the endpoint; the socket is then closed
///   and every later operation fails with the same error.
/// - **Both at once.** A read and a write may both be pending from the start
///   (a full-duplex user): the first one connects, the other waits for that
///   connect and then proceeds, or fails with the connect's error.
/// - **Timeouts.** `expires_after`, `expires_at` and `expires_never` work as
///   `boost::beast::basic_stream`'s (see `expires_after`), the connect
///   included. A timed-out operation fails with `boost::asio::error::timed_out`.
///
/// Data in a SYN can be delivered twice. Write first only what is safe to
/// repeat (a TLS ClientHello is; so is an idempotent request).
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe; use a strand as for any
/// Asio I/O object. At most one read and one write may be pending.
///
/// @par Example
/// @code
/// auto endpoints = co_await resolver.async_resolve(host, "443", asio::use_awaitable);
/// asio::ssl::stream<tfo::fast_open_stream> tls(tfo::fast_open_stream(executor, endpoints), context);
/// tls.next_layer().expires_after(std::chrono::seconds(5));
/// co_await tls.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable); // ClientHello in the SYN
/// @endcode
template <typename Executor = boost::asio::any_io_executor>
class basic_fast_open_stream
{
public:
    /// The type of the executor associated with the stream.
    using executor_type = Executor;

    /// The underlying socket, which the stream opens and connects.
    using next_layer_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;

    /// The lowest layer: the socket.
    using lowest_layer_type = typename next_layer_type::lowest_layer_type;

    /// The endpoint type.
    using endpoint_type = boost::asio::ip::tcp::endpoint;

    /// The clock of the timeouts.
    using clock_type = std::chrono::steady_clock;

    /// Rebinds the stream to another executor type.
    template <typename Executor1>
    struct rebind_executor
    {
        /// The stream type with `Executor1`.
        using other = basic_fast_open_stream<Executor1>;
    };

    /// Makes a stream with no destination yet: call `set_destination` before
    /// the first operation (which otherwise fails with `not_connected`).
    explicit basic_fast_open_stream(const executor_type& executor);

    /// As above, with the executor of `context`.
    template <typename ExecutionContext>
        requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
    explicit basic_fast_open_stream(ExecutionContext& context);

    /// Makes a stream that will connect to `destination` at its first operation.
    basic_fast_open_stream(const executor_type& executor, const endpoint_type& destination);

    /// Makes a stream that will connect to one of `destinations` (an
    /// EndpointSequence such as `tcp::resolver::results_type`; its endpoints
    /// are copied) at its first operation, trying them in turn.
    template <typename EndpointSequence>
        requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value))
    basic_fast_open_stream(const executor_type& executor, const EndpointSequence& destinations);

    /// As above, with the executor of `context`; `destination` is an endpoint
    /// or an EndpointSequence.
    template <typename ExecutionContext, typename Destination>
        requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
    basic_fast_open_stream(ExecutionContext& context, const Destination& destination);

    /// Moves a stream. Operations pending on `other` keep running; the
    /// moved-from stream may only be assigned to or destroyed.
    basic_fast_open_stream(basic_fast_open_stream&& other) noexcept = default;

    /// Closes this stream (as `close()`) and takes `other`'s place.
    basic_fast_open_stream& operator=(basic_fast_open_stream&& other) noexcept;

    /// Closes the socket: pending operations complete with `operation_aborted`.
    ~basic_fast_open_stream();

    /// Sets where the first operation connects. Allowed before the connect
    /// started, and after a failed connect (the stream then connects again at
    /// its next operation).
    /// @throws boost::system::system_error with `boost::asio::error::already_started`
    /// when the stream is connecting or connected.
    void set_destination(const endpoint_type& destination);

    /// As above, with an EndpointSequence whose endpoints are tried in turn.
    template <typename EndpointSequence>
        requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value))
    void set_destination(const EndpointSequence& destinations);

    /// The endpoint of the stream's connect: once connected, the one connected
    /// to; after a failed connect, the one whose error was reported: the one
    /// whose connection was established when an error followed it, otherwise
    /// the last one tried (the one being tried when the connect was
    /// cancelled, timed out or closed). A default endpoint before the
    /// connect, and when there was no endpoint to try.
    const endpoint_type& connect_endpoint() const noexcept;

    /// True once the connect has succeeded (until `close()`).
    bool is_connected() const noexcept;

    /// The executor of the socket.
    executor_type get_executor() noexcept;

    /// The socket. Before the connect it is closed, or open and unconnected
    /// when you opened it to set options: with one endpoint (of the socket's
    /// protocol) the socket is used as it is, options included; with several,
    /// options apply to the first endpoint only, since the socket is opened
    /// again for each of the others.
    next_layer_type& next_layer() noexcept;
    /// The socket.
    const next_layer_type& next_layer() const noexcept;

    /// The socket.
    lowest_layer_type& lowest_layer() noexcept;
    /// The socket.
    const lowest_layer_type& lowest_layer() const noexcept;

    /// Sets the timeout of the asynchronous operations started from now on.
    ///
    /// As `boost::beast::basic_stream::expires_after`: the read timer, the
    /// write timer, or both (whichever has no operation pending) expire after
    /// `after`. If a timer expires while an operation of its direction is
    /// pending, the stream is closed: that operation completes with
    /// `boost::asio::error::timed_out`, and a pending operation of the other
    /// direction with `operation_aborted`, also when one of the two was only
    /// waiting for the connect the other makes. If a timer expires with
    /// nothing pending, the next operation of that direction times out at
    /// once, as above, even when it could complete (data waiting, room to
    /// write). The expiry applies collectively to every read or write started
    /// after it is set, until set again. The connect belongs to the operation
    /// that makes it: a first write's timeout covers connect and write, a
    /// first read's covers connect and read; after a connect that timed out,
    /// later operations fail with `timed_out`.
    ///
    /// A zero-length read while a read is pending (what `asio::ssl` issues to
    /// complete a zero-length write) completes at once and leaves the pending
    /// read and its timer alone, as in Beast. Synchronous operations are
    /// never timed.
    void expires_after(clock_type::duration after);

    /// As `expires_after`, at a point in time.
    void expires_at(clock_type::time_point at);

    /// Turns the timeout off for operations started from now on.
    void expires_never();

    /// Cancels every pending operation, the connect included: they complete
    /// with `operation_aborted`. A cancelled connect leaves the stream failed.
    void cancel();

    /// Closes the socket: pending operations complete with `operation_aborted`
    /// (a connect in progress is stopped, and the stream keeps that error);
    /// later ones fail, with `bad_descriptor` when the stream was idle or
    /// connected.
    void close();

    /// Reads some data, connecting first (without data) when this is the
    /// stream's first operation.
    ///
    /// @param buffers Where to put the data. The sequence object is copied;
    /// the memory must stay valid until completion.
    ///
    /// @param token The completion token; the completion signature is
    /// @code
    /// void(boost::system::error_code ec, std::size_t bytes_transferred)
    /// @endcode
    ///
    /// @par Per-Operation Cancellation
    /// `terminal`, `partial` and `total`. While this operation connects, only
    /// `terminal` interrupts the connect (the stream then fails); a `partial`
    /// or `total` request takes effect once the connect is done: nothing is
    /// read and the stream stays connected. While it waits for a connect made
    /// by a pending write, all three end the wait alone.
    template <typename MutableBufferSequence,
              typename ReadToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_read_some(const MutableBufferSequence& buffers,
                         ReadToken&& token = boost::asio::default_completion_token_t<executor_type>());

    /// Writes some data. The stream's first write connects: it is
    /// `tfo::async_fastopen_connect`, the bytes go in the SYN when the kernel
    /// can, and it completes when all of them are written.
    ///
    /// @param buffers The data. The sequence object is copied; the memory
    /// must stay valid until completion. Only send first what is safe to
    /// receive twice (a TLS ClientHello, an idempotent request).
    ///
    /// @param token The completion token; the completion signature is
    /// @code
    /// void(boost::system::error_code ec, std::size_t bytes_transferred)
    /// @endcode
    /// After a failed connect, `bytes_transferred` is 0 (data that left in a
    /// refused SYN was not delivered).
    ///
    /// @par Per-Operation Cancellation
    /// `terminal`, `partial` and `total`. While this operation connects, only
    /// `terminal` interrupts it (the stream then fails); the others are
    /// ignored until the connect and the write are done. While it waits for
    /// a connect made by a pending read, all three end the wait alone.
    template <typename ConstBufferSequence,
              typename WriteToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_write_some(const ConstBufferSequence& buffers,
                          WriteToken&& token = boost::asio::default_completion_token_t<executor_type>());

    /// Reads some data, connecting first when this is the first operation;
    /// blocks. Fails with `boost::asio::error::in_progress` while an
    /// asynchronous operation is connecting.
    template <typename MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec);

    /// As above; throws `boost::system::system_error` on failure.
    template <typename MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers);

    /// Writes some data; the first write is `tfo::fastopen_connect` (each
    /// endpoint in turn) and writes all of `buffers`. Blocks. Fails with
    /// `boost::asio::error::in_progress` while an asynchronous operation is
    /// connecting.
    template <typename ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec);

    /// As above; throws `boost::system::system_error` on failure.
    template <typename ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers);

private:
    template <typename ConstBufferSequence>
    std::size_t connect_now(const ConstBufferSequence& buffers, boost::system::error_code& ec);

    // For the synchronous transfers: false, with the reason in `ec`, while an
    // asynchronous connect runs or after a connect failed.
    bool ready_for_transfer(boost::system::error_code& ec) const noexcept;

    std::shared_ptr<detail::fast_open_stream_impl<Executor>> impl_;
};

/// A fast-open stream with the default executor.
using fast_open_stream = basic_fast_open_stream<>;

/// Ends the connection of a WebSocket over a fast-open stream: the
/// customization point `boost::beast::websocket::stream` calls, found by
/// argument-dependent lookup, so that `websocket::stream<tfo::fast_open_stream>`
/// works as over `boost::beast::tcp_stream`. It does what Beast does for a
/// TCP socket: shuts the sending side down (before reading the rest in the
/// server role, after it in the client role), reads to the end, closes.
/// The stream's timeouts do not apply; the WebSocket's own close timeout does.
template <typename Executor>
void teardown(boost::beast::role_type role, basic_fast_open_stream<Executor>& stream, boost::system::error_code& ec);

/// As `teardown`, asynchronously. The handler's signature is
/// `void(boost::system::error_code)`.
template <typename Executor, typename TeardownHandler>
void async_teardown(boost::beast::role_type role, basic_fast_open_stream<Executor>& stream,
                    TeardownHandler&& handler);

} // namespace tfo

#include <tfo/impl/fast_open_stream.hpp>

#endif
