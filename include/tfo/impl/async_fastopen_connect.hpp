//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP
#define TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP

#include <tfo/detail/buffer_cursor.hpp>
#include <tfo/detail/completion.hpp>
#include <tfo/detail/compose.hpp>
#include <tfo/detail/connect_algorithm.hpp>
#include <tfo/detail/path_memory_access.hpp>
#include <tfo/detail/platform.hpp>
#include <tfo/detail/throw_error.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/multipath.hpp>
#include <tfo/path_memory.hpp>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include <array>
#include <chrono>
#include <iterator>
#include <memory>
#include <utility>

namespace tfo::detail {

// A single endpoint seen as a sequence of one, so that both overloads share
// one operation.
struct single_endpoint
{
    boost::asio::ip::tcp::endpoint endpoint;

    const boost::asio::ip::tcp::endpoint* begin() const noexcept { return &endpoint; }
    const boost::asio::ip::tcp::endpoint* end() const noexcept { return &endpoint + 1; }
};

// Readies the socket for a connect to `protocol`: closes it first when
// `close_first` (a new attempt), opens it when closed and, when it is open
// with another protocol, either reopens it (`reopen`) or fails. A connected
// socket is an error. Nothing is sent on error. Reopening keeps Multipath TCP.
template <typename Socket>
boost::system::error_code prepare_socket(Socket& socket, const boost::asio::ip::tcp& protocol, bool close_first,
                                         bool reopen)
{
    boost::system::error_code ec;
    bool multipath = false; // read before a close, and only then (one system call)
    if (close_first)
    {
        multipath = opened_as_multipath(socket);
        boost::system::error_code ignored;
        socket.close(ignored);
    }
    if (socket.is_open())
    {
        socket.remote_endpoint(ec);
        if (!ec)
            return boost::asio::error::already_connected;
        const int family = platform::socket_family(socket.native_handle(), ec);
        if (ec)
            return ec;
        if (family == protocol.family())
            return {};
        if (!reopen)
            return boost::asio::error::address_family_not_supported;
        multipath = opened_as_multipath(socket);
        socket.close(ec);
    }
    open_as(socket, protocol, multipath, ec);
    return ec;
}

// An element of an endpoint sequence as an endpoint: the element itself
// where it is one (no copy), a converted copy otherwise (a resolver entry, or
// an iterator that yields values).
inline const boost::asio::ip::tcp::endpoint& as_endpoint(const boost::asio::ip::tcp::endpoint& e) noexcept
{
    return e;
}

inline boost::asio::ip::tcp::endpoint as_endpoint(boost::asio::ip::tcp::endpoint&& e) noexcept
{
    return e;
}

template <typename Element>
boost::asio::ip::tcp::endpoint as_endpoint(const Element& e)
{
    return e;
}

template <typename Endpoints>
decltype(auto) endpoint_at(const Endpoints& endpoints, std::size_t index)
{
    auto it = endpoints.begin();
    std::advance(it, index);
    return as_endpoint(*it);
}

template <typename Endpoints>
std::size_t endpoint_count(const Endpoints& endpoints)
{
    return static_cast<std::size_t>(std::distance(endpoints.begin(), endpoints.end()));
}

// The path memory of the socket's execution context.
template <typename Socket>
path_memory& path_memory_of(Socket& socket)
{
    return path_memory_access::of(boost::asio::query(socket.get_executor(), boost::asio::execution::context));
}

// What a connect works on, and the actions of the algorithm that never wait,
// performed the same way for both drivers.
template <typename Socket, typename Endpoints, typename Buffers>
class connect_io
{
public:
    connect_io(Socket& s, const Endpoints& e, const Buffers& b)
        : socket(s), memory(path_memory_of(s)), endpoints(e), cursor(b)
    {
    }

    decltype(auto) endpoint(const connect_algorithm& algorithm) const
    {
        return endpoint_at(endpoints, algorithm.endpoint_index());
    }

    // The data to send, from where the algorithm says.
    prepared_buffers data(const connect_algorithm& algorithm)
    {
        cursor.seek(algorithm.data_offset());
        return cursor.prepare();
    }

    // Performs actions from `next` on until one that waits,
    // `read_kernel_record`, `adopt_hedge` or `complete`, which it returns.
    // `cancelled`: the cancellation requested so far. Each action's result
    // goes to the algorithm's resume for that action.
    connect_action run(connect_algorithm& algorithm, connect_action next, boost::asio::cancellation_type cancelled)
    {
        for (;;)
        {
            switch (next)
            {
            case connect_action::prepare_socket:
            {
                const boost::asio::ip::tcp::endpoint& to = endpoint(algorithm);
                next = algorithm.socket_prepared(
                    prepare_socket(socket, to.protocol(), algorithm.reopen(), algorithm.reopen_other_family()));
                break;
            }
            case connect_action::advise:
                next = algorithm.advised(path_memory_access::advise(
                    memory, endpoint(algorithm), algorithm.hedge_allowed(), algorithm.kernel_read_allowed()));
                break;
            case connect_action::send_syn:
            {
                const boost::asio::ip::tcp::endpoint& to = endpoint(algorithm);
                const prepared_buffers first = data(algorithm);
                next = algorithm.syn_sent(
                    platform::send_syn(socket.native_handle(), to.data(), to.size(), first.begin(), first.count()));
                break;
            }
            case connect_action::read_outcome:
                next = algorithm.outcome_read(
                    platform::read_handshake_outcome(socket.native_handle(), algorithm.wait_error()), cancelled);
                break;
            case connect_action::read_evidence:
                next = algorithm.evidence_read(platform::read_syn_evidence(socket.native_handle()), cancelled);
                break;
            case connect_action::report:
                path_memory_access::report(memory, endpoint_at(endpoints, algorithm.event_endpoint_index()),
                                           algorithm.event());
                next = algorithm.reported();
                break;
            default:
                return next;
            }
        }
    }

    // Performs `read_kernel_record`, which runs inline in the synchronous
    // driver and in the asynchronous one's completion steps, never in an
    // initiating function: the event to resume with.
    connect_event read_kernel_record(boost::asio::cancellation_type cancelled)
    {
        path_memory_access::read_kernel_table(memory);
        connect_event e;
        e.cancelled = cancelled;
        if (!socket.is_open())
            e.ec = boost::asio::error::operation_aborted; // closed meanwhile
        return e;
    }

    Socket& socket;
    path_memory& memory;
    Endpoints endpoints;
    buffer_cursor<Buffers> cursor;
};

// What a connect reports, for the asynchronous operation's completion and
// the synchronous forms alike.
enum class connect_completion
{
    single,   // (ec, bytes_written)
    sequence, // (ec, the endpoint established or a default one, bytes_written)
    attempted // (ec, the endpoint last tried, bytes_written): the stream's connect_endpoint()
};

// The endpoint a finished connect reports, in the form `Completion` names.
template <connect_completion Completion, typename Io>
boost::asio::ip::tcp::endpoint reported_endpoint(const Io& io, const connect_algorithm& algorithm)
{
    const bool named = Completion == connect_completion::attempted ? algorithm.attempted() : algorithm.established();
    return named ? boost::asio::ip::tcp::endpoint(io.endpoint(algorithm)) : boost::asio::ip::tcp::endpoint();
}

// The synchronous driver: performs each waiting action by blocking. It never
// hedges (the algorithm is told so): a blocking call has no second
// operation to race.
template <typename Socket, typename Endpoints, typename Buffers>
void run_connect(connect_io<Socket, Endpoints, Buffers>& io, connect_algorithm& algorithm)
{
    const auto none = boost::asio::cancellation_type::none; // nothing cancels a blocking call
    connect_action next = io.run(algorithm, algorithm.start(), none);
    while (next != connect_action::complete)
    {
        boost::system::error_code ec;
        switch (next)
        {
        case connect_action::await_syn_ack:
            io.socket.wait(boost::asio::socket_base::wait_write, ec);
            next = algorithm.wait_ended(ec);
            break;
        case connect_action::connect:
            io.socket.connect(io.endpoint(algorithm), ec);
            next = algorithm.connected(ec, none);
            break;
        case connect_action::write:
        {
            const std::size_t n = io.socket.write_some(io.data(algorithm), ec);
            next = algorithm.written(ec, n, none);
            break;
        }
        case connect_action::read_kernel_record:
            next = algorithm.resume(io.read_kernel_record(none));
            break;
        default: // adopt_hedge: there is no hedge here
            next = algorithm.resume(connect_event());
            break;
        }
        next = io.run(algorithm, next, none);
    }
}

// A synchronous connect, from start to end: the error, the endpoint in the
// form `Completion` names, and the count.
struct blocking_connect_result
{
    boost::system::error_code ec;
    boost::asio::ip::tcp::endpoint endpoint;
    std::size_t bytes_written = 0;
};

template <connect_completion Completion, typename Socket, typename Endpoints, typename Buffers>
blocking_connect_result connect_blocking(Socket& socket, const Endpoints& endpoints, const Buffers& buffers)
{
    connect_io<Socket, Endpoints, Buffers> io(socket, endpoints, buffers);
    connect_algorithm algorithm(endpoint_count(endpoints), io.cursor.total(),
                                {Completion != connect_completion::single, false});
    run_connect(io, algorithm);
    return {algorithm.error(), reported_endpoint<Completion>(io, algorithm), algorithm.bytes_written()};
}

// Lets through only the cancellation types the current step honours.
struct cancellation_mask
{
    boost::asio::cancellation_type mask;

    boost::asio::cancellation_type operator()(boost::asio::cancellation_type requested) const noexcept
    {
        return requested & mask;
    }
};

// The second socket and the timer of a hedged connect, where the operation
// can find them after it moved.
template <typename Socket>
struct hedge_parts
{
    using timer_type = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                         boost::asio::wait_traits<std::chrono::steady_clock>,
                                                         typename Socket::executor_type>;

    explicit hedge_parts(const typename Socket::executor_type& ex) : socket(ex), timer(ex) {}

    Socket socket;
    timer_type timer;
};

// The hedge: waits for the delay, then connects the second socket the plain
// way, unless the fast-open SYN on `first` was answered meanwhile. Completes
// with (error, whether the connect started).
template <typename Socket>
class hedge_op
{
public:
    hedge_op(hedge_parts<Socket>& parts, platform::native_socket first, const boost::asio::ip::tcp::endpoint& endpoint,
             std::uint32_t delay_us)
        : parts_(&parts), first_(first), endpoint_(endpoint), delay_us_(delay_us)
    {
    }

    template <typename Self>
    void operator()(Self& self)
    {
        // The group forwards only the first cancellation it sees, whatever
        // its type (the user's `partial`, or `all` when the SYN's wait
        // ended): the hedge must end on every one of them, or it outlives
        // the operation's promise (async_compose lets only `terminal` through).
        self.reset_cancellation_state(boost::asio::enable_total_cancellation());
        parts_->timer.expires_after(std::chrono::microseconds(delay_us_));
        parts_->timer.async_wait(std::move(self));
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec)
    {
        if (connecting_ || ec)
            return self.complete(ec, connecting_);
        // The timer's handler may run well after the deadline on a busy
        // io_context, with the answer already in: the race may even be over
        // (the group's cancellation came after the timer had fired), or the
        // wait on the first socket completes soon. A second connection
        // would be waste, and one more connection at the server.
        if (self.cancelled() != boost::asio::cancellation_type::none || platform::syn_answered(first_))
            return self.complete(ec, false);
        open_as(parts_->socket, endpoint_.protocol(), platform::opened_as_multipath(first_), ec);
        if (ec)
            return self.complete(ec, false);
        connecting_ = true;
        parts_->socket.async_connect(endpoint_, std::move(self));
    }

private:
    hedge_parts<Socket>* parts_;
    platform::native_socket first_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::uint32_t delay_us_;
    bool connecting_ = false;
};

// When the race of a hedged connect ends: as soon as the SYN's wait ends,
// however (an answer, or the user's close or cancel, which must stop the
// hedge too), or the hedge is established. A hedge that failed (refused)
// leaves the SYN's wait running.
struct hedge_race_over
{
    boost::asio::cancellation_type operator()(const boost::system::error_code&) const noexcept
    {
        return boost::asio::cancellation_type::all;
    }

    boost::asio::cancellation_type operator()(const boost::system::error_code& ec, bool started) const noexcept
    {
        return !ec && started ? boost::asio::cancellation_type::all : boost::asio::cancellation_type::none;
    }
};

// The asynchronous driver: performs each waiting action asynchronously, and
// races the hedge where the algorithm arms one.
template <typename Socket, typename Endpoints, typename Buffers, connect_completion Completion>
class fastopen_connect_op
{
public:
    fastopen_connect_op(Socket& socket, const Endpoints& endpoints, const Buffers& buffers)
        : io_(socket, endpoints, buffers),
          algorithm_(endpoint_count(io_.endpoints), io_.cursor.total(),
                     {Completion != connect_completion::single, true})
    {
    }

    // Entry from the initiation, and re-entry after the post that keeps the
    // kernel read out of the initiating function.
    template <typename Self>
    void operator()(Self& self)
    {
        if (algorithm_.action() == connect_action::read_kernel_record)
        {
            continuation_ = true;
            return run(self, connect_action::read_kernel_record);
        }
        run(self, algorithm_.start());
    }

    // Completion of async_wait (the SYN's answer) or async_connect.
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec)
    {
        continuation_ = true;
        if (algorithm_.action() == connect_action::connect)
            return run(self, algorithm_.connected(ec, self.cancelled()));
        run(self, algorithm_.wait_ended(ec));
    }

    // Completion of a hedged wait: the fast-open SYN's answer raced against
    // the hedge (a timer, then a plain connect on a second socket).
    template <typename Self>
    void operator()(Self& self, std::array<std::size_t, 2>, boost::system::error_code wait_ec,
                    boost::system::error_code hedge_ec, bool hedge_started)
    {
        // Both operations have completed: nothing is pending on either socket.
        auto parts = std::move(hedge_);
        connect_event e;
        e.ec = wait_ec;
        e.hedge_started = hedge_started;
        // A socket the user closed ends the operation, even when the hedge
        // connected meanwhile: it must not come back to life.
        e.hedge_connected = !hedge_ec && io_.socket.is_open();
        e.cancelled = self.cancelled();
        continuation_ = true;
        connect_action next = io_.run(algorithm_, algorithm_.resume(e), e.cancelled);
        if (next == connect_action::adopt_hedge)
        {
            // The user's socket takes the hedge's connection, closing the silent one.
            io_.socket = std::move(parts->socket);
            next = algorithm_.resume(e); // the adoption's result: nothing but `cancelled`
        }
        run(self, next);
    }

    // Completion of async_write_some.
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t n)
    {
        continuation_ = true;
        run(self, algorithm_.written(ec, n, self.cancelled()));
    }

private:
    // Performs `next` and the actions after it, up to one that waits.
    template <typename Self>
    void run(Self& self, connect_action next)
    {
        next = io_.run(algorithm_, next, self.cancelled());
        while (next == connect_action::read_kernel_record)
        {
            if (!continuation_)
            {
                self.reset_cancellation_state(cancellation_mask{algorithm_.honoured_cancellation()});
                const auto executor = io_.socket.get_executor();
                return boost::asio::post(executor, std::move(self));
            }
            next = io_.run(algorithm_, algorithm_.resume(io_.read_kernel_record(self.cancelled())),
                           self.cancelled());
        }
        if (next == connect_action::complete)
            return complete(self);
        // From here on `self` may be moved: every member is set first.
        self.reset_cancellation_state(cancellation_mask{algorithm_.honoured_cancellation()});
        Socket& socket = io_.socket;
        switch (next)
        {
        case connect_action::await_syn_ack:
            if (const std::uint32_t delay = algorithm_.hedge_delay_us(); delay != 0)
                return hedged_wait(self, delay);
            return socket.async_wait(boost::asio::socket_base::wait_write, std::move(self));
        case connect_action::connect:
            return socket.async_connect(io_.endpoint(algorithm_), std::move(self));
        default: // write
            return socket.async_write_some(io_.data(algorithm_), std::move(self));
        }
    }

    // Waits for the SYN's answer, and after `delay_us` without one races a
    // plain connect to the same endpoint on a second socket; the first
    // established wins. Cancellation reaches both through the group.
    template <typename Self>
    void hedged_wait(Self& self, std::uint32_t delay_us)
    {
        using parts_type = hedge_parts<Socket>;
        using allocator_type = typename std::allocator_traits<
            boost::asio::associated_allocator_t<Self>>::template rebind_alloc<parts_type>;
        Socket& socket = io_.socket;
        hedge_ = std::allocate_shared<parts_type>(allocator_type(boost::asio::get_associated_allocator(self)),
                                                  socket.get_executor());
        parts_type& parts = *hedge_;
        auto hedge = boost::asio::async_compose<const boost::asio::deferred_t&,
                                                void(boost::system::error_code, bool)>(
            hedge_op<Socket>(parts, socket.native_handle(), io_.endpoint(algorithm_), delay_us),
            boost::asio::deferred, parts.socket, parts.timer);
        boost::asio::experimental::make_parallel_group(
            socket.async_wait(boost::asio::socket_base::wait_write, boost::asio::deferred), std::move(hedge))
            .async_wait(hedge_race_over(), std::move(self));
    }

    template <typename Self>
    void complete(Self& self)
    {
        const boost::system::error_code ec = algorithm_.error();
        const std::size_t n = algorithm_.bytes_written();
        if constexpr (Completion == connect_completion::single)
            detail::complete(self, continuation_, io_.socket, ec, n);
        else
            detail::complete(self, continuation_, io_.socket, ec, reported_endpoint<Completion>(io_, algorithm_), n);
    }

    connect_io<Socket, Endpoints, Buffers> io_;
    connect_algorithm algorithm_;
    bool continuation_ = false;
    std::shared_ptr<hedge_parts<Socket>> hedge_;
};

} // namespace tfo::detail

namespace tfo {

template <typename Executor, typename ConstBufferSequence, typename CompletionToken>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                            const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers,
                            CompletionToken&& token)
{
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    using op = detail::fastopen_connect_op<socket_type, detail::single_endpoint, ConstBufferSequence,
                                           detail::connect_completion::single>;
    return detail::async_io_op<void(boost::system::error_code, std::size_t), op>(
        socket, std::forward<CompletionToken>(token), detail::single_endpoint{endpoint}, buffers);
}

template <typename Executor, typename EndpointSequence, typename ConstBufferSequence, typename CompletionToken>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value)) &&
             boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                            const EndpointSequence& endpoints, const ConstBufferSequence& buffers,
                            CompletionToken&& token)
{
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    using op = detail::fastopen_connect_op<socket_type, EndpointSequence, ConstBufferSequence,
                                           detail::connect_completion::sequence>;
    return detail::async_io_op<void(boost::system::error_code, boost::asio::ip::tcp::endpoint, std::size_t), op>(
        socket, std::forward<CompletionToken>(token), endpoints, buffers);
}

template <typename Executor, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                             const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers,
                             boost::system::error_code& ec)
{
    const auto r = detail::connect_blocking<detail::connect_completion::single>(
        socket, detail::single_endpoint{endpoint}, buffers);
    ec = r.ec;
    return r.bytes_written;
}

template <typename Executor, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                             const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers)
{
    return detail::call_or_throw("tfo::fastopen_connect", [&](boost::system::error_code& ec) {
        return fastopen_connect(socket, endpoint, buffers, ec);
    });
}

template <typename Executor, typename EndpointSequence, typename ConstBufferSequence>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value)) &&
             boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
fastopen_connect_result fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                                         const EndpointSequence& endpoints, const ConstBufferSequence& buffers,
                                         boost::system::error_code& ec)
{
    // The sequence is walked where it is, not copied: the call blocks.
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    const auto r = detail::connect_blocking<detail::connect_completion::sequence, socket_type, const EndpointSequence&>(
        socket, endpoints, buffers);
    ec = r.ec;
    return {r.endpoint, r.bytes_written};
}

template <typename Executor, typename EndpointSequence, typename ConstBufferSequence>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value)) &&
             boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
fastopen_connect_result fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                                         const EndpointSequence& endpoints, const ConstBufferSequence& buffers)
{
    return detail::call_or_throw("tfo::fastopen_connect", [&](boost::system::error_code& ec) {
        return fastopen_connect(socket, endpoints, buffers, ec);
    });
}

} // namespace tfo

#endif
