//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_FAST_OPEN_STREAM_HPP
#define TFO_IMPL_FAST_OPEN_STREAM_HPP

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/detail/compose.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/throw_exception.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace tfo::detail {

// The stream's endpoints, as the connect drivers walk them (the stream
// outlives its connect, so they are not copied).
using endpoint_span = std::span<const boost::asio::ip::tcp::endpoint>;

enum class lazy_connect : unsigned char
{
    idle,       // not connected; the first operation connects
    connecting, // an asynchronous operation is connecting
    open,       // connected
    failed      // the connect failed: socket closed, error kept
};

template <typename Executor>
struct fast_open_stream_impl
{
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    using clock_type = std::chrono::steady_clock;
    using timer_type =
        boost::asio::basic_waitable_timer<clock_type, boost::asio::wait_traits<clock_type>, Executor>;

    static constexpr clock_type::time_point never() noexcept { return clock_type::time_point::max(); }

    // One per direction, as in Beast: an operation arms its direction's timer
    // at its start; `tick` tells a late expiry from a live one.
    struct direction
    {
        explicit direction(const Executor& executor) : timer(executor) { timer.expires_at(never()); }

        timer_type timer;
        std::uint64_t tick = 0;
        bool pending = false;
        bool timed_out = false;
    };

    explicit fast_open_stream_impl(const Executor& executor)
        : socket(executor), connect_done(executor), read(executor), write(executor)
    {
        connect_done.expires_at(never());
    }

    direction& side(bool is_read) noexcept { return is_read ? read : write; }

    // Ends everything: the connect (which reopens the socket between
    // endpoints, so closing alone might not stop it) and every socket operation.
    void abort() noexcept
    {
        if (state == lazy_connect::connecting)
            connect_cancel.emit(boost::asio::cancellation_type::terminal);
        boost::system::error_code ignored;
        socket.close(ignored);
    }

    void cancel() noexcept
    {
        if (state == lazy_connect::connecting)
            connect_cancel.emit(boost::asio::cancellation_type::terminal);
        boost::system::error_code ignored;
        socket.cancel(ignored);
        connect_done.cancel();
    }

    // The connect is over: record it, and wake an operation waiting for it.
    // `connected` is the endpoint the connect tried last (the established
    // one, if any).
    void connect_finished(boost::system::error_code ec, const boost::asio::ip::tcp::endpoint& connected)
    {
        connect_cancel.slot().clear();
        if (ec)
        {
            if (connect_timed_out)
                ec = boost::asio::error::timed_out;
            state = lazy_connect::failed;
            connect_error = ec;
            boost::system::error_code ignored;
            socket.close(ignored);
        }
        else
        {
            state = lazy_connect::open;
        }
        endpoint = connected;
        connect_timed_out = false;
        connect_done.cancel();
    }

    socket_type socket;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;
    bool has_destination = false;
    lazy_connect state = lazy_connect::idle;
    boost::system::error_code connect_error;
    boost::asio::ip::tcp::endpoint endpoint;
    bool connect_timed_out = false;
    bool connect_by_read = false;                    // which direction's operation makes the connect
    boost::asio::cancellation_signal connect_cancel; // bound to the connect, fed by the user's slot and the timers
    timer_type connect_done;                         // never expires: a wait on it ends when the connect does
    direction read;
    direction write;
};

// Runs when a direction's timer expires; holds the stream weakly so that a
// stream destroyed meanwhile is left alone.
template <typename Executor>
struct timeout_handler
{
    std::weak_ptr<fast_open_stream_impl<Executor>> stream;
    bool is_read;
    std::uint64_t tick;

    void operator()(boost::system::error_code ec) const
    {
        if (ec == boost::asio::error::operation_aborted)
            return;
        auto impl = stream.lock();
        if (!impl)
            return;
        auto& side = impl->side(is_read);
        if (!side.pending || side.tick != tick)
            return; // the operation finished first
        side.timed_out = true;
        // The connect times out with the operation that makes it; an
        // operation that only waits for it ends the stream, and the connect
        // (the other direction's) completes with operation_aborted.
        if (impl->state == lazy_connect::connecting && impl->connect_by_read == is_read)
            impl->connect_timed_out = true;
        impl->abort();
    }
};

// A read or write: connect first when needed (or wait for the connect the
// other direction makes), then transfer.
template <typename Executor, typename Buffers, bool IsRead>
class transfer_op
{
public:
    using impl_type = fast_open_stream_impl<Executor>;

    transfer_op(std::shared_ptr<impl_type> impl, const Buffers& buffers) : impl_(std::move(impl)), buffers_(buffers)
    {
    }

    template <typename Self>
    void operator()(Self& self)
    {
        self.reset_cancellation_state(boost::asio::enable_total_cancellation());
        impl_type& impl = *impl_;
        auto& side = impl.side(IsRead);
        side.pending = true;
        if (side.timer.expiry() != impl_type::never())
        {
            if (side.timer.expiry() <= impl_type::clock_type::now())
            {
                // Expired before the operation started: it times out at once,
                // as if its timer had fired, even with data waiting.
                side.timed_out = true;
                impl.abort();
                if (impl.state == lazy_connect::idle)
                {
                    impl.state = lazy_connect::failed;
                    impl.connect_error = boost::asio::error::timed_out;
                }
                return finish(self, boost::asio::error::operation_aborted, 0);
            }
            armed_ = true;
            side.timer.async_wait(boost::asio::bind_executor(
                boost::asio::get_associated_executor(self, impl.socket.get_executor()),
                timeout_handler<Executor>{impl_, IsRead, side.tick}));
        }
        switch (impl.state)
        {
        case lazy_connect::open:
            return transfer(self);
        case lazy_connect::failed:
            return finish(self, impl.connect_error, 0);
        case lazy_connect::connecting:
            started_ = true;
            return impl.connect_done.async_wait(std::move(self));
        case lazy_connect::idle:
            if (!impl.has_destination)
                return finish(self, boost::asio::error::not_connected, 0);
            return connect(self);
        }
    }

    // The wait for the other direction's connect ended.
    template <typename Self>
    void operator()(Self& self, boost::system::error_code)
    {
        impl_type& impl = *impl_;
        if (impl.state == lazy_connect::connecting || impl.state == lazy_connect::idle)
            return finish(self, boost::asio::error::operation_aborted, 0); // our own wait was cancelled
        if (impl.state == lazy_connect::failed)
        {
            // The connect timed out with the other direction's operation:
            // this one was only waiting, and is aborted with the stream.
            const bool other_timed_out = impl.connect_error == boost::asio::error::timed_out;
            return finish(self, other_timed_out ? boost::asio::error::operation_aborted : impl.connect_error, 0);
        }
        if (self.cancelled() != boost::asio::cancellation_type::none)
            return finish(self, boost::asio::error::operation_aborted, 0);
        transfer(self);
    }

    // Completion of the transfer.
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t n)
    {
        finish(self, ec, n);
    }

    // Completion of the connect.
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, boost::asio::ip::tcp::endpoint endpoint, std::size_t n)
    {
        connected(self, ec, endpoint, n);
    }

private:
    template <typename Self>
    void connect(Self& self)
    {
        impl_type& impl = *impl_;
        impl.state = lazy_connect::connecting;
        impl.connect_timed_out = false;
        impl.connect_by_read = IsRead;
        started_ = true;
        // The connect listens to our signal, which the user's slot and the
        // timers both feed. Only terminal cancellation interrupts it: a
        // partial or total request lets the connect finish (the stream then
        // completes the operation with `operation_aborted`, connected), as
        // this stream's documentation promises, although the connect itself
        // would honour them.
        auto slot = self.get_cancellation_state().slot();
        if (slot.is_connected())
            slot.assign([&signal = impl.connect_cancel](boost::asio::cancellation_type type) {
                if ((type & boost::asio::cancellation_type::terminal) != boost::asio::cancellation_type::none)
                    signal.emit(boost::asio::cancellation_type::terminal);
            });
        const Buffers data = buffers_; // `self` and its members move below
        auto handler = boost::asio::bind_cancellation_slot(impl.connect_cancel.slot(), std::move(self));
        if constexpr (IsRead)
            start_connect(impl, boost::asio::const_buffer(), std::move(handler));
        else
            start_connect(impl, data, std::move(handler));
    }

    // The connect algorithm's asynchronous driver over the stream's
    // endpoints, however many: it reports the endpoint it tried last.
    template <typename ConstBuffers, typename Handler>
    static void start_connect(impl_type& impl, const ConstBuffers& data, Handler&& handler)
    {
        using op = fastopen_connect_op<typename impl_type::socket_type, endpoint_span, ConstBuffers,
                                       connect_completion::attempted>;
        async_io_op<void(boost::system::error_code, boost::asio::ip::tcp::endpoint, std::size_t), op>(
            impl.socket, std::forward<Handler>(handler), impl.endpoints, data);
    }

    template <typename Self>
    void connected(Self& self, boost::system::error_code ec, const boost::asio::ip::tcp::endpoint& endpoint,
                   std::size_t n)
    {
        impl_type& impl = *impl_;
        self.get_cancellation_state().slot().clear();
        impl.connect_finished(ec, endpoint);
        if (ec)
            return finish(self, impl.connect_error, n);
        if constexpr (IsRead)
        {
            // A partial or total request made during the connect: connected, nothing read.
            if (self.cancelled() != boost::asio::cancellation_type::none)
                return finish(self, boost::asio::error::operation_aborted, 0);
            transfer(self);
        }
        else
        {
            finish(self, ec, n);
        }
    }

    template <typename Self>
    void transfer(Self& self)
    {
        started_ = true;
        const Buffers data = buffers_; // `self` and its members move below
        if constexpr (IsRead)
            impl_->socket.async_read_some(data, std::move(self));
        else
            impl_->socket.async_write_some(data, std::move(self));
    }

    template <typename Self>
    void finish(Self& self, boost::system::error_code ec, std::size_t n)
    {
        impl_type& impl = *impl_;
        auto& side = impl.side(IsRead);
        side.pending = false;
        ++side.tick;
        if (armed_)
            side.timer.cancel();
        if (side.timed_out)
        {
            side.timed_out = false;
            ec = boost::asio::error::timed_out;
        }
        detail::complete(self, started_, impl.socket, ec, n);
    }

    std::shared_ptr<impl_type> impl_;
    Buffers buffers_;
    bool armed_ = false;
    bool started_ = false;
};

// The initiation of async_read_some and async_write_some. A connected stream
// with no timeout hands the operation straight to the socket.
template <typename Executor, bool IsRead>
struct initiate_transfer
{
    using executor_type = Executor;
    using impl_type = fast_open_stream_impl<Executor>;

    std::shared_ptr<impl_type> impl;

    executor_type get_executor() const noexcept { return impl->socket.get_executor(); }

    template <typename Handler, typename Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const
    {
        if (IsRead && impl->side(IsRead).pending && boost::asio::buffer_size(buffers) == 0)
        {
            // asio::ssl completes a zero-length write with a zero-length read
            // of the next layer, which may come while a read is pending (as
            // in Beast's basic_stream, issue 2065): it completes at once and
            // leaves the pending read and its timer alone.
            boost::asio::post(impl->socket.get_executor(),
                              boost::asio::append(std::forward<Handler>(handler), boost::system::error_code(),
                                                  std::size_t(0)));
            return;
        }
        if (impl->state == lazy_connect::open && impl->side(IsRead).timer.expiry() == impl_type::never())
        {
            if constexpr (IsRead)
                impl->socket.async_read_some(buffers, std::forward<Handler>(handler));
            else
                impl->socket.async_write_some(buffers, std::forward<Handler>(handler));
            return;
        }
        using handler_type = std::decay_t<Handler>;
        handler_type h(std::forward<Handler>(handler));
        boost::asio::async_compose<handler_type, void(boost::system::error_code, std::size_t)>(
            transfer_op<Executor, Buffers, IsRead>(impl, buffers), h, impl->socket);
    }
};

} // namespace tfo::detail

namespace tfo {

template <typename Executor>
basic_fast_open_stream<Executor>::basic_fast_open_stream(const executor_type& executor)
    : impl_(std::make_shared<detail::fast_open_stream_impl<Executor>>(executor))
{
}

template <typename Executor>
template <typename ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
basic_fast_open_stream<Executor>::basic_fast_open_stream(ExecutionContext& context)
    : basic_fast_open_stream(executor_type(context.get_executor()))
{
}

template <typename Executor>
basic_fast_open_stream<Executor>::basic_fast_open_stream(const executor_type& executor,
                                                         const endpoint_type& destination)
    : basic_fast_open_stream(executor)
{
    set_destination(destination);
}

template <typename Executor>
template <typename EndpointSequence>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value))
basic_fast_open_stream<Executor>::basic_fast_open_stream(const executor_type& executor,
                                                         const EndpointSequence& destinations)
    : basic_fast_open_stream(executor)
{
    set_destination(destinations);
}

template <typename Executor>
template <typename ExecutionContext, typename Destination>
    requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
basic_fast_open_stream<Executor>::basic_fast_open_stream(ExecutionContext& context, const Destination& destination)
    : basic_fast_open_stream(executor_type(context.get_executor()), destination)
{
}

template <typename Executor>
basic_fast_open_stream<Executor>& basic_fast_open_stream<Executor>::operator=(basic_fast_open_stream&& other) noexcept
{
    if (this != &other)
    {
        if (impl_)
            impl_->abort();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

template <typename Executor>
basic_fast_open_stream<Executor>::~basic_fast_open_stream()
{
    // Pending operations hold the state: end them, as closing a socket does.
    if (impl_)
        impl_->abort();
}

template <typename Executor>
void basic_fast_open_stream<Executor>::set_destination(const endpoint_type& destination)
{
    set_destination(std::vector<endpoint_type>{destination});
}

template <typename Executor>
template <typename EndpointSequence>
    requires (bool(boost::asio::is_endpoint_sequence<EndpointSequence>::value))
void basic_fast_open_stream<Executor>::set_destination(const EndpointSequence& destinations)
{
    auto& impl = *impl_;
    if (impl.state == detail::lazy_connect::connecting || impl.state == detail::lazy_connect::open)
        boost::throw_exception(
            boost::system::system_error(boost::asio::error::already_started, "tfo::fast_open_stream::set_destination"));
    std::vector<endpoint_type> endpoints;
    for (const auto& entry : destinations)
        endpoints.push_back(entry);
    impl.endpoints = std::move(endpoints);
    impl.has_destination = true;
    impl.state = detail::lazy_connect::idle;
    impl.connect_error = {};
    impl.endpoint = {};
}

template <typename Executor>
auto basic_fast_open_stream<Executor>::connect_endpoint() const noexcept -> const endpoint_type&
{
    return impl_->endpoint;
}

template <typename Executor>
bool basic_fast_open_stream<Executor>::is_connected() const noexcept
{
    return impl_->state == detail::lazy_connect::open && impl_->socket.is_open();
}

template <typename Executor>
auto basic_fast_open_stream<Executor>::get_executor() noexcept -> executor_type
{
    return impl_->socket.get_executor();
}

template <typename Executor>
auto basic_fast_open_stream<Executor>::next_layer() noexcept -> next_layer_type&
{
    return impl_->socket;
}

template <typename Executor>
auto basic_fast_open_stream<Executor>::next_layer() const noexcept -> const next_layer_type&
{
    return impl_->socket;
}

template <typename Executor>
auto basic_fast_open_stream<Executor>::lowest_layer() noexcept -> lowest_layer_type&
{
    return impl_->socket.lowest_layer();
}

template <typename Executor>
auto basic_fast_open_stream<Executor>::lowest_layer() const noexcept -> const lowest_layer_type&
{
    return impl_->socket.lowest_layer();
}

template <typename Executor>
void basic_fast_open_stream<Executor>::expires_after(clock_type::duration after)
{
    expires_at(clock_type::now() + after);
}

template <typename Executor>
void basic_fast_open_stream<Executor>::expires_at(clock_type::time_point at)
{
    // A direction with an operation pending keeps the expiry that operation
    // started with, as in Beast.
    for (auto* side : {&impl_->read, &impl_->write})
        if (!side->pending)
            side->timer.expires_at(at);
}

template <typename Executor>
void basic_fast_open_stream<Executor>::expires_never()
{
    expires_at(detail::fast_open_stream_impl<Executor>::never());
}

template <typename Executor>
void basic_fast_open_stream<Executor>::cancel()
{
    impl_->cancel();
}

template <typename Executor>
void basic_fast_open_stream<Executor>::close()
{
    auto& impl = *impl_;
    impl.abort();
    if (impl.state == detail::lazy_connect::idle)
    {
        impl.state = detail::lazy_connect::failed;
        impl.connect_error = boost::asio::error::bad_descriptor;
    }
}

template <typename Executor>
template <typename MutableBufferSequence, typename ReadToken>
auto basic_fast_open_stream<Executor>::async_read_some(const MutableBufferSequence& buffers, ReadToken&& token)
{
    return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
        detail::initiate_transfer<Executor, true>{impl_}, token, buffers);
}

template <typename Executor>
template <typename ConstBufferSequence, typename WriteToken>
auto basic_fast_open_stream<Executor>::async_write_some(const ConstBufferSequence& buffers, WriteToken&& token)
{
    return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
        detail::initiate_transfer<Executor, false>{impl_}, token, buffers);
}

template <typename Executor>
template <typename ConstBufferSequence>
std::size_t basic_fast_open_stream<Executor>::connect_now(const ConstBufferSequence& buffers,
                                                          boost::system::error_code& ec)
{
    auto& impl = *impl_;
    if (!impl.has_destination)
    {
        ec = boost::asio::error::not_connected;
        return 0;
    }
    // The connect algorithm's synchronous driver, as the asynchronous
    // connect uses its asynchronous one: the same decisions on both paths.
    const auto r = detail::connect_blocking<detail::connect_completion::attempted, next_layer_type,
                                            detail::endpoint_span>(impl.socket, impl.endpoints, buffers);
    ec = r.ec;
    impl.connect_finished(ec, r.endpoint);
    return r.bytes_written;
}

template <typename Executor>
bool basic_fast_open_stream<Executor>::ready_for_transfer(boost::system::error_code& ec) const noexcept
{
    switch (impl_->state)
    {
    case detail::lazy_connect::connecting:
        ec = boost::asio::error::in_progress; // an asynchronous connect owns the socket
        return false;
    case detail::lazy_connect::failed:
        ec = impl_->connect_error;
        return false;
    default:
        return true;
    }
}

template <typename Executor>
template <typename MutableBufferSequence>
std::size_t basic_fast_open_stream<Executor>::read_some(const MutableBufferSequence& buffers,
                                                         boost::system::error_code& ec)
{
    auto& impl = *impl_;
    if (impl.state == detail::lazy_connect::idle)
    {
        connect_now(boost::asio::const_buffer(), ec); // a read first: connect without data
        if (ec)
            return 0;
    }
    if (!ready_for_transfer(ec))
        return 0;
    return impl.socket.read_some(buffers, ec);
}

template <typename Executor>
template <typename MutableBufferSequence>
std::size_t basic_fast_open_stream<Executor>::read_some(const MutableBufferSequence& buffers)
{
    return detail::call_or_throw("tfo::fast_open_stream::read_some",
                                 [&](boost::system::error_code& ec) { return read_some(buffers, ec); });
}

template <typename Executor>
template <typename ConstBufferSequence>
std::size_t basic_fast_open_stream<Executor>::write_some(const ConstBufferSequence& buffers,
                                                          boost::system::error_code& ec)
{
    auto& impl = *impl_;
    if (impl.state == detail::lazy_connect::idle)
        return connect_now(buffers, ec);
    if (!ready_for_transfer(ec))
        return 0;
    return impl.socket.write_some(buffers, ec);
}

template <typename Executor>
template <typename ConstBufferSequence>
std::size_t basic_fast_open_stream<Executor>::write_some(const ConstBufferSequence& buffers)
{
    return detail::call_or_throw("tfo::fast_open_stream::write_some",
                                 [&](boost::system::error_code& ec) { return write_some(buffers, ec); });
}

template <typename Executor>
void teardown(boost::beast::role_type role, basic_fast_open_stream<Executor>& stream, boost::system::error_code& ec)
{
    using boost::beast::websocket::teardown;
    teardown(role, stream.next_layer(), ec);
}

template <typename Executor, typename TeardownHandler>
void async_teardown(boost::beast::role_type role, basic_fast_open_stream<Executor>& stream,
                    TeardownHandler&& handler)
{
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

} // namespace tfo

#endif
