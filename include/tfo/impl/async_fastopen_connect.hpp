//
// tfo: TCP Fast Open for Boost.Asio
//

#ifndef TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP
#define TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP

#include <tfo/detail/buffer_cursor.hpp>
#include <tfo/detail/first_send.hpp>

#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/throw_exception.hpp>
#include <boost/system/system_error.hpp>

#include <iterator>
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
        auto local = socket.local_endpoint(ec);
        if (ec)
            return ec;
        if (local.protocol() == protocol)
            return {};
        if (!reopen)
            return boost::asio::error::address_family_not_supported;
        socket.close(ec);
    }
    socket.open(protocol, ec);
    return ec;
}

// Puts as much of the cursor's data in the SYN as the kernel takes.
template <typename Socket, typename Buffers>
first_send_result send_syn(Socket& socket, const boost::asio::ip::tcp::endpoint& endpoint,
                           buffer_cursor<Buffers>& cursor)
{
    const prepared_buffers first = cursor.prepare();
    const auto iov = first.to_iovecs();
    first_send_result r = send_first(socket.native_handle(), endpoint.data(),
                                     static_cast<socklen_t>(endpoint.size()), iov.data(), first.count());
    cursor.consume(r.bytes);
    return r;
}

template <typename Socket, typename Endpoints, typename Buffers, bool Ranged>
class fastopen_connect_op
{
public:
    fastopen_connect_op(Socket& socket, const Endpoints& endpoints, const Buffers& buffers)
        : socket_(socket), endpoints_(endpoints), cursor_(buffers)
    {
    }

    // Entry from async_compose, and re-entry after a posted completion.
    template <typename Self>
    void operator()(Self& self)
    {
        if (state_ == state::posted_completion)
            return complete(self, result_);
        if (endpoint_count() == 0)
            return finish(self, boost::asio::error::not_found);
        try_endpoint(self);
    }

    // Completion of async_wait (the fast-open SYN) or async_connect (the fallback).
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec)
    {
        if (!ec && state_ == state::awaiting_syn_ack)
            ec = connect_result(socket_.native_handle());
        if (!ec && self.cancelled() != boost::asio::cancellation_type::none)
            ec = boost::asio::error::operation_aborted;
        if (ec)
            return connect_failed(self, ec);
        state_ = state::writing;
        write_rest(self);
    }

    // Completion of async_write_some.
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t n)
    {
        cursor_.consume(n);
        if (!ec && self.cancelled() != boost::asio::cancellation_type::none)
            ec = boost::asio::error::operation_aborted;
        if (ec)
            return finish(self, ec);
        write_rest(self);
    }

private:
    enum class state
    {
        starting,
        awaiting_syn_ack, // SYN sent by sendmsg(MSG_FASTOPEN), waiting for writable
        connecting,       // plain async_connect, after a fallback
        writing,
        posted_completion
    };

    std::size_t endpoint_count() const
    {
        return static_cast<std::size_t>(std::distance(endpoints_.begin(), endpoints_.end()));
    }

    boost::asio::ip::tcp::endpoint current_endpoint() const
    {
        auto it = endpoints_.begin();
        std::advance(it, index_);
        return *it;
    }

    template <typename Self>
    void try_endpoint(Self& self)
    {
        for (; index_ < endpoint_count(); ++index_)
        {
            const boost::asio::ip::tcp::endpoint endpoint = current_endpoint();
            if (Ranged && index_ > 0)
            {
                boost::system::error_code ignored;
                socket_.close(ignored);
            }
            // A socket that cannot be readied (connected, out of descriptors)
            // fails the same way for every endpoint: stop.
            if (auto ec = prepare_socket(socket_, endpoint.protocol(), Ranged))
                return finish(self, ec);
            const first_send_result r = send_syn(socket_, endpoint, cursor_);
            switch (r.outcome)
            {
            case first_send_outcome::syn_sent:
                state_ = state::awaiting_syn_ack;
                started_ = true;
                socket_.async_wait(boost::asio::socket_base::wait_write, std::move(self));
                return;
            case first_send_outcome::fall_back:
                state_ = state::connecting;
                started_ = true;
                socket_.async_connect(endpoint, std::move(self));
                return;
            case first_send_outcome::failed:
                result_ = r.ec;
                break;
            }
            if (!Ranged)
                break;
        }
        finish(self, result_);
    }

    template <typename Self>
    void connect_failed(Self& self, const boost::system::error_code& ec)
    {
        // No connection, so none of the SYN's data was delivered.
        cursor_.rewind();
        result_ = ec;
        if (!Ranged || ec == boost::asio::error::operation_aborted ||
            self.cancelled() != boost::asio::cancellation_type::none)
            return finish(self, ec);
        ++index_;
        try_endpoint(self);
    }

    template <typename Self>
    void write_rest(Self& self)
    {
        if (cursor_.done())
            return finish(self, {});
        socket_.async_write_some(cursor_.prepare(), std::move(self));
    }

    // Completes now if an asynchronous step already ran; otherwise posts, so
    // that the handler never runs inside the initiating function.
    template <typename Self>
    void finish(Self& self, const boost::system::error_code& ec)
    {
        if (started_)
            return complete(self, ec);
        result_ = ec;
        state_ = state::posted_completion;
        boost::asio::post(socket_.get_executor(), std::move(self));
    }

    template <typename Self>
    void complete(Self& self, const boost::system::error_code& ec)
    {
        if constexpr (Ranged)
            self.complete(ec, ec ? boost::asio::ip::tcp::endpoint() : current_endpoint(), cursor_.consumed());
        else
            self.complete(ec, cursor_.consumed());
    }

    Socket& socket_;
    Endpoints endpoints_;
    buffer_cursor<Buffers> cursor_;
    std::size_t index_ = 0;
    boost::system::error_code result_;
    state state_ = state::starting;
    bool started_ = false;
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
    detail::buffer_cursor<ConstBufferSequence> cursor(buffers);
    ec = detail::prepare_socket(socket, endpoint.protocol(), false);
    if (ec)
        return 0;
    const detail::first_send_result r = detail::send_syn(socket, endpoint, cursor);
    switch (r.outcome)
    {
    case detail::first_send_outcome::syn_sent:
        socket.wait(boost::asio::socket_base::wait_write, ec);
        if (!ec)
            ec = detail::connect_result(socket.native_handle());
        if (ec)
            cursor.rewind(); // no connection: none of the SYN's data was delivered
        break;
    case detail::first_send_outcome::fall_back:
        socket.connect(endpoint, ec);
        break;
    case detail::first_send_outcome::failed:
        ec = r.ec;
        break;
    }
    while (!ec && !cursor.done())
        cursor.consume(socket.write_some(cursor.prepare(), ec));
    return cursor.consumed();
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
