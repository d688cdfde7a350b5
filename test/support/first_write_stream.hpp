//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A TCP stream that connects on its first write, with
// tfo::async_fastopen_connect: as the next layer of asio::ssl::stream, the
// first flight rides in the SYN. Stands in for the library's fast-open
// stream in the TLS tests until that lands.
//
// It can also hold its second write back for a while: the client's Finished
// then reaches the server late, as it does over a real path (half a round
// trip after the server's flight left), instead of microseconds later on
// loopback. nginx reports `$ssl_early_data` as 1 only for a request it
// processes before the handshake completes.
//

#ifndef TFO_TEST_SUPPORT_FIRST_WRITE_STREAM_HPP
#define TFO_TEST_SUPPORT_FIRST_WRITE_STREAM_HPP

#include <tfo/async_fastopen_connect.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

#include <utility>

namespace tfo::test {

class first_write_stream
{
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    using lowest_layer_type = boost::asio::ip::tcp::socket::lowest_layer_type;

    first_write_stream(const executor_type& executor, const boost::asio::ip::tcp::endpoint& endpoint,
                       std::chrono::milliseconds hold_second_write = {})
        : socket_(executor), endpoint_(endpoint), hold_(hold_second_write)
    {
    }

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    lowest_layer_type& lowest_layer() noexcept { return socket_; }
    const lowest_layer_type& lowest_layer() const noexcept { return socket_; }
    boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }

    template <typename MutableBufferSequence, typename ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token)
    {
        return socket_.async_read_some(buffers, std::forward<ReadToken>(token));
    }

    template <typename ConstBufferSequence, typename WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token)
    {
        return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& b) {
                ++writes_;
                if (writes_ == 1)
                    return tfo::async_fastopen_connect(socket_, endpoint_, b, std::move(handler));
                if (writes_ == 2 && hold_.count() > 0)
                {
                    auto timer = std::make_shared<boost::asio::steady_timer>(socket_.get_executor(), hold_);
                    return timer->async_wait([this, timer, b, h = std::move(handler)](boost::system::error_code) mutable {
                        socket_.async_write_some(b, std::move(h));
                    });
                }
                socket_.async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

private:
    boost::asio::ip::tcp::socket socket_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::chrono::milliseconds hold_;
    int writes_ = 0;
};

} // namespace tfo::test

#endif
