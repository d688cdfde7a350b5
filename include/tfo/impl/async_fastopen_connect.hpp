//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP
#define TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP

#include <tfo/detail/buffer_cursor.hpp>
#include <tfo/detail/connect_algorithm.hpp>
#include <tfo/detail/platform.hpp>
#include <tfo/fast_open_info.hpp>
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
#include <boost/throw_exception.hpp>
#include <boost/system/system_error.hpp>

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

// Readies the socket for a connect to `protocol`: opens it when closed and,
// when it is open with another protocol, either reopens it (`reopen`) or
// fails. A connected socket is an error. Nothing is sent on error.
template <typename Socket>
boost::system::error_code prepare_socket(Socket& socket, const boost::asio::ip::tcp& protocol, bool reopen)
{
    boost::system::error_code ec;
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
        socket.close(ec);
    }
    socket.open(protocol, ec);
    return ec;
}

template <typename Endpoints>
boost::asio::ip::tcp::endpoint endpoint_at(const Endpoints& endpoints, std::size_t index)
{
    auto it = endpoints.begin();
    std::advance(it, index);
    return *it;
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
    return boost::asio::use_service<path_memory>(
        boost::asio::query(socket.get_executor(), boost::asio::execution::context));
}

// Tells the path memory what the last handshake taught, if anything.
template <typename Endpoints>
void report_event(path_memory& memory, const connect_algorithm& algorithm, const Endpoints& endpoints)
{
    const path_event& e = algorithm.event();
    if (e.kind != path_event_kind::none || e.rtt_us != 0 || e.hedge_started)
        memory.report(endpoint_at(endpoints, algorithm.event_endpoint_index()), e);
}

// The outcome of a plain connect that ended with `ec`, with the SYN's
// evidence when the algorithm wants it (one TCP_INFO read).
template <typename Socket>
handshake_outcome plain_connect_outcome(const connect_algorithm& algorithm, Socket& socket,
                                        const boost::system::error_code& ec)
{
    handshake_outcome h = outcome_of_connect_error(ec);
    if (!ec && algorithm.observe_connect())
        h.syn = platform::read_syn_evidence(socket.native_handle());
    return h;
}

// The steps that never wait: readying the socket and sending the SYN. Runs
// them until the algorithm asks for one that waits (or completes), so that
// the asynchronous operation and the synchronous function share them.
template <typename Socket, typename Endpoints, typename Buffers>
connect_algorithm::step run_immediate_steps(connect_algorithm& algorithm, connect_algorithm::step step,
                                            Socket& socket, const Endpoints& endpoints,
                                            buffer_cursor<Buffers>& cursor, bool may_reopen,
                                            path_memory& memory, bool may_hedge)
{
    using step_type = connect_algorithm::step;
    for (;;)
    {
        if (step == step_type::prepare_socket)
        {
            if (algorithm.reopen())
            {
                boost::system::error_code ignored;
                socket.close(ignored);
            }
            const boost::asio::ip::tcp::endpoint endpoint = endpoint_at(endpoints, algorithm.endpoint_index());
            const boost::system::error_code ec = prepare_socket(socket, endpoint.protocol(), may_reopen);
            step = algorithm.socket_prepared(
                ec, ec || algorithm.retrying_plain() ? path_advice{} : memory.advise(endpoint, may_hedge));
        }
        else if (step == step_type::send_syn)
        {
            cursor.rewind(); // every attempt starts from the first byte
            const boost::asio::ip::tcp::endpoint endpoint = endpoint_at(endpoints, algorithm.endpoint_index());
            const prepared_buffers first = cursor.prepare();
            const syn_send_result r = platform::send_syn(socket.native_handle(), endpoint.data(), endpoint.size(),
                                                         first.begin(), first.count());
            cursor.consume(r.bytes);
            step = algorithm.syn_sent(r);
        }
        else
        {
            if (step == step_type::connect)
                cursor.rewind();
            return step;
        }
    }
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
        parts_->socket.open(endpoint_.protocol(), ec);
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

template <typename Socket, typename Endpoints, typename Buffers, bool Ranged>
class fastopen_connect_op
{
public:
    fastopen_connect_op(Socket& socket, const Endpoints& endpoints, const Buffers& buffers)
        : socket_(socket), memory_(path_memory_of(socket)), endpoints_(endpoints), cursor_(buffers),
          algorithm_(endpoint_count(endpoints_), cursor_.total(), Ranged)
    {
    }

    // Entry from async_compose, and re-entry after a posted completion.
    template <typename Self>
    void operator()(Self& self)
    {
        if (wait_ == wait::posted_completion)
            return complete(self);
        run(self, algorithm_.start());
    }

    // Completion of async_wait (the fast-open SYN) or async_connect (the fallback).
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec)
    {
        const handshake_outcome h = wait_ == wait::syn_ack
                                        ? platform::read_handshake_outcome(socket_.native_handle(), ec)
                                        : plain_connect_outcome(algorithm_, socket_, ec);
        const step next = algorithm_.handshake_done(h, self.cancelled());
        report_event(memory_, algorithm_, endpoints_);
        run(self, next);
    }

    // Completion of a hedged wait: the fast-open SYN's answer raced against
    // the hedge (a timer, then a plain connect on a second socket).
    template <typename Self>
    void operator()(Self& self, std::array<std::size_t, 2>, boost::system::error_code wait_ec,
                    boost::system::error_code hedge_ec, bool hedge_started)
    {
        // Both operations have completed: nothing is pending on either socket.
        auto parts = std::move(hedge_);
        if (hedge_started)
            algorithm_.hedge_started();
        step next;
        // A socket the user closed ends the operation, even when the hedge
        // connected meanwhile: it must not come back to life.
        const bool hedge_connected = hedge_started && !hedge_ec && socket_.is_open();
        if (hedge_connected && !first_socket_established())
        {
            // The hedge won: the user's socket takes its connection (closing
            // the silent one) and the data goes out on it from the first byte.
            socket_ = std::move(parts->socket);
            next = algorithm_.hedge_won({}, self.cancelled());
            cursor_.rewind();
        }
        else
        {
            // The SYN was answered first (or at the same time: the
            // connection that carries the data wins), or the wait was
            // cancelled; the hedge socket closes with `parts`. Its wait was
            // cancelled when the hedge connected at the same time.
            next = algorithm_.handshake_done(
                platform::read_handshake_outcome(socket_.native_handle(),
                                                 hedge_connected ? boost::system::error_code() : wait_ec),
                self.cancelled());
        }
        report_event(memory_, algorithm_, endpoints_);
        run(self, next);
    }

    // Completion of async_write_some.
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t n)
    {
        cursor_.consume(n);
        run(self, algorithm_.written(ec, n, self.cancelled()));
    }

private:
    using step = connect_algorithm::step;

    enum class wait
    {
        none,
        syn_ack,          // SYN sent by the platform, waiting for writable
        connect,          // plain async_connect, after a fallback
        write,
        posted_completion
    };

    bool first_socket_established() const
    {
        boost::system::error_code ec;
        const fast_open_info info = platform::read_fast_open_info(socket_.native_handle(), ec);
        return !ec && info.state == tcp_state::established;
    }

    template <typename Self>
    void run(Self& self, step next)
    {
        next = run_immediate_steps(algorithm_, next, socket_, endpoints_, cursor_, Ranged, memory_, true);
        if (next == step::complete)
            return finish(self);
        // From here on `self` may be moved: every member is set first.
        self.reset_cancellation_state(cancellation_mask{algorithm_.honoured_cancellation()});
        switch (next)
        {
        case step::await_syn_ack:
            wait_ = wait::syn_ack;
            if (const std::uint32_t delay = algorithm_.hedge_delay_us(); delay != 0)
                return hedged_wait(self, delay);
            socket_.async_wait(boost::asio::socket_base::wait_write, std::move(self));
            return;
        case step::connect:
            wait_ = wait::connect;
            socket_.async_connect(endpoint_at(endpoints_, algorithm_.endpoint_index()), std::move(self));
            return;
        default:
            wait_ = wait::write;
            socket_.async_write_some(cursor_.prepare(), std::move(self));
            return;
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
        hedge_ = std::allocate_shared<parts_type>(allocator_type(boost::asio::get_associated_allocator(self)),
                                                  socket_.get_executor());
        parts_type& parts = *hedge_;
        auto hedge = boost::asio::async_compose<const boost::asio::deferred_t&,
                                                void(boost::system::error_code, bool)>(
            hedge_op<Socket>(parts, socket_.native_handle(), endpoint_at(endpoints_, algorithm_.endpoint_index()),
                             delay_us),
            boost::asio::deferred, parts.socket, parts.timer);
        boost::asio::experimental::make_parallel_group(
            socket_.async_wait(boost::asio::socket_base::wait_write, boost::asio::deferred), std::move(hedge))
            .async_wait(hedge_race_over(), std::move(self));
    }

    // Completes now if an asynchronous step already ran; otherwise posts, so
    // that the handler never runs inside the initiating function.
    template <typename Self>
    void finish(Self& self)
    {
        if (wait_ != wait::none)
            return complete(self);
        wait_ = wait::posted_completion;
        boost::asio::post(socket_.get_executor(), std::move(self));
    }

    template <typename Self>
    void complete(Self& self)
    {
        const boost::system::error_code ec = algorithm_.error();
        if constexpr (Ranged)
            self.complete(ec,
                          algorithm_.established() ? endpoint_at(endpoints_, algorithm_.endpoint_index())
                                                   : boost::asio::ip::tcp::endpoint(),
                          algorithm_.bytes_written());
        else
            self.complete(ec, algorithm_.bytes_written());
    }

    Socket& socket_;
    path_memory& memory_;
    Endpoints endpoints_;
    buffer_cursor<Buffers> cursor_;
    connect_algorithm algorithm_;
    wait wait_ = wait::none;
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
    using op = detail::fastopen_connect_op<socket_type, detail::single_endpoint, ConstBufferSequence, false>;
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::size_t)>(
        op(socket, detail::single_endpoint{endpoint}, buffers), token, socket);
}

template <typename Executor, typename EndpointSequence, typename ConstBufferSequence, typename CompletionToken>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value)) &&
             boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                            const EndpointSequence& endpoints, const ConstBufferSequence& buffers,
                            CompletionToken&& token)
{
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    using op = detail::fastopen_connect_op<socket_type, EndpointSequence, ConstBufferSequence, true>;
    return boost::asio::async_compose<CompletionToken,
                                      void(boost::system::error_code, boost::asio::ip::tcp::endpoint, std::size_t)>(
        op(socket, endpoints, buffers), token, socket);
}

template <typename Executor, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                             const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers,
                             boost::system::error_code& ec)
{
    using step = detail::connect_algorithm::step;
    const detail::single_endpoint endpoints{endpoint};
    detail::buffer_cursor<ConstBufferSequence> cursor(buffers);
    detail::connect_algorithm algorithm(1, cursor.total(), false);
    path_memory& memory = detail::path_memory_of(socket);
    step next = algorithm.start();
    for (;;)
    {
        // No hedge: a blocking call has no second thread to race with.
        next = detail::run_immediate_steps(algorithm, next, socket, endpoints, cursor, false, memory, false);
        boost::system::error_code step_ec;
        switch (next)
        {
        case step::await_syn_ack:
            socket.wait(boost::asio::socket_base::wait_write, step_ec);
            next = algorithm.handshake_done(detail::platform::read_handshake_outcome(socket.native_handle(), step_ec),
                                            boost::asio::cancellation_type::none);
            detail::report_event(memory, algorithm, endpoints);
            break;
        case step::connect:
            socket.connect(endpoint, step_ec);
            next = algorithm.handshake_done(detail::plain_connect_outcome(algorithm, socket, step_ec),
                                            boost::asio::cancellation_type::none);
            detail::report_event(memory, algorithm, endpoints);
            break;
        case step::write:
        {
            const std::size_t n = socket.write_some(cursor.prepare(), step_ec);
            cursor.consume(n);
            next = algorithm.written(step_ec, n, boost::asio::cancellation_type::none);
            break;
        }
        default:
            ec = algorithm.error();
            return algorithm.bytes_written();
        }
    }
}

template <typename Executor, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t fastopen_connect(boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& socket,
                             const boost::asio::ip::tcp::endpoint& endpoint, const ConstBufferSequence& buffers)
{
    boost::system::error_code ec;
    std::size_t n = fastopen_connect(socket, endpoint, buffers, ec);
    if (ec)
        boost::throw_exception(boost::system::system_error(ec, "tfo::fastopen_connect"));
    return n;
}

} // namespace tfo

#endif
