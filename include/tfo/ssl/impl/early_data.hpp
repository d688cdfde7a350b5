//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_SSL_IMPL_EARLY_DATA_HPP
#define TFO_SSL_IMPL_EARLY_DATA_HPP

#include <tfo/ssl/detail/early_data.hpp>

#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <tuple>
#include <utility>

namespace tfo::ssl {
namespace detail {

// Whether the connection runs over IPv6, for the SYN data limit; false when
// the lowest layer does not say.
template <typename Stream>
bool over_ipv6(Stream& stream)
{
    if constexpr (requires { stream.lowest_layer().local_endpoint(); })
    {
        boost::system::error_code ec;
        const auto local = stream.lowest_layer().local_endpoint(ec);
        return !ec && local.address().is_v6() && !local.address().to_v6().is_v4_mapped();
    }
    return false;
}

// How many bytes already wait in the lowest layer's receive queue; 0 when
// the layer does not say.
template <typename Stream>
std::size_t readable_now(Stream& stream)
{
    if constexpr (requires { stream.lowest_layer().available(); })
    {
        boost::system::error_code ec;
        const std::size_t n = stream.lowest_layer().available(ec);
        return ec ? 0 : n;
    }
    return 0;
}

// The client's operation: produce the first flight, write it to the next
// layer (the fast-open connect when the next layer connects on its first
// write), complete the handshake, and resend the request when the server
// refused it early. Without early data: handshake, then write.
template <typename NextLayer, typename ConstBufferSequence>
class handshake_and_write_op
{
public:
    handshake_and_write_op(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                           replay_safety safety)
        : stream_(stream), request_(request), safety_(safety)
    {
    }

    // Entry from async_compose, and re-entry after a posted completion.
    template <typename Self>
    void operator()(Self& self)
    {
        if (state_ == state::posted_completion)
            return self.complete(result_, early_data_outcome{});
        SSL* ssl = stream_.native_handle();
        reason_ = early_data_decision(ssl, boost::asio::buffer_size(request_), safety_);
        if (reason_ != not_attempted_reason::none)
        {
            state_ = state::handshaking;
            return stream_.async_handshake(boost::asio::ssl::stream_base::client, std::move(self));
        }
        const bytes request = flatten(request_);
        boost::system::error_code ec;
        flight_ = make_first_flight(ssl, request, reason_, ec);
        if (ec)
        {
            result_ = ec;
            state_ = state::posted_completion;
            return boost::asio::post(stream_.get_executor(), std::move(self));
        }
        flight_size_ = reason_ == not_attempted_reason::none ? flight_.size() : 0;
        state_ = state::writing_first_flight;
        boost::asio::async_write(stream_.next_layer(), boost::asio::buffer(flight_), std::move(self));
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t = 0)
    {
        if (ec)
            return self.complete(ec, early_data_outcome{});
        switch (state_)
        {
        case state::writing_first_flight:
            flight_ = {};
            state_ = state::handshaking;
            return stream_.async_handshake(boost::asio::ssl::stream_base::client, std::move(self));
        case state::handshaking:
            outcome_ = make_outcome(stream_.native_handle(), reason_, flight_size_, over_ipv6(stream_));
            if (outcome_.status == early_data_status::accepted)
                return self.complete(ec, outcome_);
            state_ = state::writing_request;
            return boost::asio::async_write(stream_, request_, std::move(self));
        case state::writing_request:
        case state::posted_completion:
            break;
        }
        self.complete(ec, outcome_);
    }

private:
    enum class state
    {
        writing_first_flight,
        handshaking,
        writing_request,
        posted_completion
    };

    boost::asio::ssl::stream<NextLayer>& stream_;
    ConstBufferSequence request_;
    replay_safety safety_;
    state state_ = state::handshaking;
    not_attempted_reason reason_ = not_attempted_reason::none;
    bytes flight_; // a vector: its storage stays put when the operation moves
    std::size_t flight_size_ = 0;
    early_data_outcome outcome_;
    boost::system::error_code result_;
};

// The server's early phase: one TLS record at a time from the next layer
// into OpenSSL, until early data comes out or the phase ends.
template <typename NextLayer>
class read_early_data_op
{
public:
    read_early_data_op(boost::asio::ssl::stream<NextLayer>& stream, boost::asio::mutable_buffer out)
        : stream_(stream), out_(out)
    {
    }

    // Entry from async_compose, and re-entry after a posted completion.
    template <typename Self>
    void operator()(Self& self)
    {
        if (state_ == state::posted_completion)
            return self.complete(result_, result_bytes_);
        if (out_.size() == 0)
            return post_completion(self, boost::asio::error::invalid_argument, 0);
        output_ = take_held_output(stream_.native_handle());
        step(self);
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t = 0)
    {
        asynchronous_ = true;
        if (ec)
            return self.complete(ec, 0);
        switch (state_)
        {
        case state::flushing:
            output_.clear();
            if (finishing_)
                return self.complete(ec, 0);
            return read_header(self);
        case state::reading_header:
        {
            record_header header;
            std::copy_n(record_.begin(), header.size(), header.begin());
            const std::size_t body = record_body_size(header, ec);
            if (ec)
                return self.complete(ec, 0);
            record_.resize(header.size() + body);
            state_ = state::reading_body;
            return boost::asio::async_read(stream_.next_layer(),
                                           boost::asio::buffer(record_.data() + header.size(), body),
                                           std::move(self));
        }
        case state::reading_body:
            return step(self);
        case state::posted_completion:
            break;
        }
    }

private:
    enum class state
    {
        flushing,
        reading_header,
        reading_body,
        posted_completion
    };

    template <typename Self>
    void step(Self& self)
    {
        boost::system::error_code ec;
        const early_read_result r =
            read_early_step(stream_.native_handle(), std::exchange(record_, {}), out_, output_, ec);
        if (ec)
            return post_completion(self, ec, 0);
        switch (r.what)
        {
        case early_read::data:
            // Hold the handshake flight for the answer to join it.
            hold_output(stream_.native_handle(), std::move(output_));
            return post_completion(self, ec, r.bytes);
        case early_read::finished:
            finishing_ = true;
            if (output_.empty())
                return post_completion(self, ec, 0);
            return flush(self);
        case early_read::need_record:
            // The next record is already here (early data that came with the
            // ClientHello): no need to send the flight before reading it.
            if (output_.empty() || readable_now(stream_) >= std::tuple_size_v<record_header>)
                return read_header(self);
            return flush(self);
        }
    }

    template <typename Self>
    void flush(Self& self)
    {
        state_ = state::flushing;
        boost::asio::async_write(stream_.next_layer(), boost::asio::buffer(output_), std::move(self));
    }

    // Into a vector: its storage stays put when the operation object moves.
    template <typename Self>
    void read_header(Self& self)
    {
        state_ = state::reading_header;
        record_.resize(std::tuple_size_v<record_header>);
        boost::asio::async_read(stream_.next_layer(), boost::asio::buffer(record_), std::move(self));
    }

    // Completes now when an asynchronous step already ran, otherwise through
    // a post, so that the handler never runs inside the initiating call.
    template <typename Self>
    void post_completion(Self& self, boost::system::error_code ec, std::size_t n)
    {
        if (asynchronous_)
            return self.complete(ec, n);
        result_ = ec;
        result_bytes_ = n;
        state_ = state::posted_completion;
        boost::asio::post(stream_.get_executor(), std::move(self));
    }

    boost::asio::ssl::stream<NextLayer>& stream_;
    boost::asio::mutable_buffer out_;
    state state_ = state::reading_header;
    bool asynchronous_ = false;
    bool finishing_ = false;
    bytes record_;
    bytes output_;
    boost::system::error_code result_;
    std::size_t result_bytes_ = 0;
};

// The server's 0.5-RTT write: the held handshake flight and the answer, in
// one write to the next layer.
template <typename NextLayer>
class write_early_data_op
{
public:
    write_early_data_op(boost::asio::ssl::stream<NextLayer>& stream, bytes data) : stream_(stream), data_(std::move(data))
    {
    }

    // Entry from async_compose, and re-entry after a posted completion.
    template <typename Self>
    void operator()(Self& self)
    {
        if (posted_)
            return self.complete(result_, 0);
        SSL* ssl = stream_.native_handle();
        output_ = take_held_output(ssl);
        write_early_step(ssl, data_, output_, result_);
        if (result_)
        {
            posted_ = true;
            return boost::asio::post(stream_.get_executor(), std::move(self));
        }
        boost::asio::async_write(stream_.next_layer(), boost::asio::buffer(output_), std::move(self));
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t = 0)
    {
        self.complete(ec, ec ? 0 : data_.size());
    }

private:
    boost::asio::ssl::stream<NextLayer>& stream_;
    bytes data_;
    bytes output_;
    boost::system::error_code result_;
    bool posted_ = false;
};

template <typename MutableBufferSequence>
boost::asio::mutable_buffer first_buffer(const MutableBufferSequence& buffers)
{
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
    {
        const boost::asio::mutable_buffer b(*it);
        if (b.size() != 0)
            return b;
    }
    return {};
}

} // namespace detail

template <typename NextLayer, typename ConstBufferSequence, typename CompletionToken>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                               replay_safety safety, CompletionToken&& token)
{
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, early_data_outcome)>(
        detail::handshake_and_write_op<NextLayer, ConstBufferSequence>(stream, request, safety), token, stream);
}

template <typename NextLayer, typename MutableBufferSequence, typename CompletionToken>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
auto async_read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers,
                           CompletionToken&& token)
{
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::size_t)>(
        detail::read_early_data_op<NextLayer>(stream, detail::first_buffer(buffers)), token, stream);
}

template <typename NextLayer, typename ConstBufferSequence, typename CompletionToken>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers,
                            CompletionToken&& token)
{
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::size_t)>(
        detail::write_early_data_op<NextLayer>(stream, detail::flatten(buffers)), token, stream);
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
early_data_outcome handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                                       replay_safety safety, boost::system::error_code& ec)
{
    SSL* ssl = stream.native_handle();
    not_attempted_reason reason = detail::early_data_decision(ssl, boost::asio::buffer_size(request), safety);
    std::size_t flight_size = 0;
    if (reason == not_attempted_reason::none)
    {
        const detail::bytes flight = detail::make_first_flight(ssl, detail::flatten(request), reason, ec);
        if (ec)
            return {};
        flight_size = reason == not_attempted_reason::none ? flight.size() : 0;
        boost::asio::write(stream.next_layer(), boost::asio::buffer(flight), ec);
        if (ec)
            return {};
    }
    stream.handshake(boost::asio::ssl::stream_base::client, ec);
    if (ec)
        return {};
    const early_data_outcome outcome = detail::make_outcome(ssl, reason, flight_size, detail::over_ipv6(stream));
    if (outcome.status != early_data_status::accepted)
    {
        boost::asio::write(stream, request, ec);
        if (ec)
            return {};
    }
    return outcome;
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
early_data_outcome handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                                       replay_safety safety)
{
    boost::system::error_code ec;
    const early_data_outcome outcome = handshake_and_write(stream, request, safety, ec);
    if (ec)
        boost::throw_exception(boost::system::system_error(ec, "tfo::ssl::handshake_and_write"));
    return outcome;
}

template <typename NextLayer, typename MutableBufferSequence>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
std::size_t read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers,
                            boost::system::error_code& ec)
{
    const boost::asio::mutable_buffer out = detail::first_buffer(buffers);
    if (out.size() == 0)
    {
        ec = boost::asio::error::invalid_argument;
        return 0;
    }
    SSL* ssl = stream.native_handle();
    detail::bytes output = detail::take_held_output(ssl);
    detail::bytes record;
    for (;;)
    {
        const detail::early_read_result r = detail::read_early_step(ssl, std::exchange(record, {}), out, output, ec);
        if (ec)
            return 0;
        if (r.what == detail::early_read::data)
        {
            detail::hold_output(ssl, std::move(output));
            return r.bytes;
        }
        // The flight goes out before any wait for the client; not before a
        // record that is already here (see read_early_data_op).
        const bool wait_ahead = r.what == detail::early_read::finished ||
                                detail::readable_now(stream) < std::tuple_size_v<detail::record_header>;
        if (!output.empty() && wait_ahead)
        {
            boost::asio::write(stream.next_layer(), boost::asio::buffer(output), ec);
            if (ec)
                return 0;
            output.clear();
        }
        if (r.what == detail::early_read::finished)
            return 0;
        detail::record_header header;
        boost::asio::read(stream.next_layer(), boost::asio::buffer(header), ec);
        if (ec)
            return 0;
        const std::size_t body = detail::record_body_size(header, ec);
        if (ec)
            return 0;
        record.assign(header.begin(), header.end());
        record.resize(header.size() + body);
        boost::asio::read(stream.next_layer(), boost::asio::buffer(record.data() + header.size(), body), ec);
        if (ec)
            return 0;
    }
}

template <typename NextLayer, typename MutableBufferSequence>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
std::size_t read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers)
{
    boost::system::error_code ec;
    const std::size_t n = read_early_data(stream, buffers, ec);
    if (ec)
        boost::throw_exception(boost::system::system_error(ec, "tfo::ssl::read_early_data"));
    return n;
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers,
                             boost::system::error_code& ec)
{
    SSL* ssl = stream.native_handle();
    const detail::bytes data = detail::flatten(buffers);
    detail::bytes output = detail::take_held_output(ssl);
    detail::write_early_step(ssl, data, output, ec);
    if (ec)
        return 0;
    boost::asio::write(stream.next_layer(), boost::asio::buffer(output), ec);
    return ec ? 0 : data.size();
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers)
{
    boost::system::error_code ec;
    const std::size_t n = write_early_data(stream, buffers, ec);
    if (ec)
        boost::throw_exception(boost::system::system_error(ec, "tfo::ssl::write_early_data"));
    return n;
}

template <typename NextLayer>
bool early_data_accepted(boost::asio::ssl::stream<NextLayer>& stream)
{
    return SSL_get_early_data_status(stream.native_handle()) == SSL_EARLY_DATA_ACCEPTED;
}

} // namespace tfo::ssl

#endif
