//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::fast_open_stream with its second write held back for a while. Under
// asio::ssl::stream the first write is the early flight (it rides in the
// SYN) and the second is the client's Finished, which then reaches the
// server late, as over a real path (half a round trip after the server's
// flight left), instead of microseconds later on loopback. nginx reports
// `$ssl_early_data` as 1 only for a request it processes before the
// handshake completes. Everything else is the library's stream.
//

#ifndef TFO_TEST_SUPPORT_LATE_FINISHED_STREAM_HPP
#define TFO_TEST_SUPPORT_LATE_FINISHED_STREAM_HPP

#include <tfo/fast_open_stream.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <utility>

namespace tfo::test {

class late_finished_stream
{
public:
    using next_layer_type = tfo::fast_open_stream;
    using executor_type = next_layer_type::executor_type;
    using lowest_layer_type = next_layer_type::lowest_layer_type;

    late_finished_stream(const executor_type& executor, const boost::asio::ip::tcp::endpoint& destination,
                         std::chrono::milliseconds hold)
        : next_(executor, destination), hold_(hold)
    {
    }

    executor_type get_executor() noexcept { return next_.get_executor(); }
    next_layer_type& next_layer() noexcept { return next_; }
    lowest_layer_type& lowest_layer() noexcept { return next_.lowest_layer(); }
    const lowest_layer_type& lowest_layer() const noexcept { return next_.lowest_layer(); }

    template <typename MutableBufferSequence, typename ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token)
    {
        return next_.async_read_some(buffers, std::forward<ReadToken>(token));
    }

    template <typename ConstBufferSequence, typename WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token)
    {
        return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& b) {
                if (++writes_ != 2)
                    return next_.async_write_some(b, std::move(handler));
                auto timer = std::make_shared<boost::asio::steady_timer>(next_.get_executor(), hold_);
                timer->async_wait([this, timer, b, h = std::move(handler)](boost::system::error_code) mutable {
                    next_.async_write_some(b, std::move(h));
                });
            },
            token, buffers);
    }

private:
    next_layer_type next_;
    std::chrono::milliseconds hold_;
    int writes_ = 0;
};

} // namespace tfo::test

#endif
