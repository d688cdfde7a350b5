//
// tfo: TCP Fast Open for Boost.Asio
//

#ifndef TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP
#define TFO_IMPL_ASYNC_FASTOPEN_CONNECT_HPP

#include <tfo/detail/buffer_cursor.hpp>
#include <tfo/detail/connect_algorithm.hpp>
#include <tfo/detail/platform.hpp>

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

// The steps that never wait: readying the socket and sending the SYN. Runs
// them until the algorithm asks for one that waits (or completes), so that
// the asynchronous operation and the synchronous function share them.
template <typename Socket, typename Endpoints, typename Buffers>
connect_algorithm::step run_immediate_steps(connect_algorithm& algorithm, connect_algorithm::step step,
                                            Socket& socket, const Endpoints& endpoints,
                                            buffer_cursor<Buffers>& cursor, bool may_reopen)
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
            step = algorithm.socket_prepared(
                prepare_socket(socket, endpoint_at(endpoints, algorithm.endpoint_index()).protocol(), may_reopen));
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

template <typename Socket, typename Endpoints, typename Buffers, bool Ranged>
class fastopen_connect_op
{
public:
    fastopen_connect_op(Socket& socket, const Endpoints& endpoints, const Buffers& buffers)
        : socket_(socket), endpoints_(endpoints), cursor_(buffers),
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
                                        : outcome_of_connect_error(ec);
        run(self, algorithm_.handshake_done(h, self.cancelled()));
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

    template <typename Self>
    void run(Self& self, step next)
    {
        next = run_immediate_steps(algorithm_, next, socket_, endpoints_, cursor_, Ranged);
        if (next == step::complete)
            return finish(self);
        // From here on `self` may be moved: every member is set first.
        self.reset_cancellation_state(cancellation_mask{algorithm_.honoured_cancellation()});
        switch (next)
        {
        case step::await_syn_ack:
            wait_ = wait::syn_ack;
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
    Endpoints endpoints_;
    buffer_cursor<Buffers> cursor_;
    connect_algorithm algorithm_;
    wait wait_ = wait::none;
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
    step next = algorithm.start();
    for (;;)
    {
        next = detail::run_immediate_steps(algorithm, next, socket, endpoints, cursor, false);
        boost::system::error_code step_ec;
        switch (next)
        {
        case step::await_syn_ack:
            socket.wait(boost::asio::socket_base::wait_write, step_ec);
            next = algorithm.handshake_done(detail::platform::read_handshake_outcome(socket.native_handle(), step_ec),
                                            boost::asio::cancellation_type::none);
            break;
        case step::connect:
            socket.connect(endpoint, step_ec);
            next = algorithm.handshake_done(detail::outcome_of_connect_error(step_ec),
                                            boost::asio::cancellation_type::none);
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
