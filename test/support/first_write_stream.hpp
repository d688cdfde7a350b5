//
// tfo: TCP Fast Open for Boost.Asio
//
// A TCP stream that connects on its first write, with
// tfo::async_fastopen_connect: as the next layer of asio::ssl::stream, the
// first flight rides in the SYN. Stands in for the library's fast-open
// stream in the TLS tests until that lands.
//

#ifndef TFO_TEST_SUPPORT_FIRST_WRITE_STREAM_HPP
#define TFO_TEST_SUPPORT_FIRST_WRITE_STREAM_HPP

#include <tfo/async_fastopen_connect.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <utility>

namespace tfo::test {

class first_write_stream
{
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    using lowest_layer_type = boost::asio::ip::tcp::socket::lowest_layer_type;

    first_write_stream(const executor_type& executor, const boost::asio::ip::tcp::endpoint& endpoint)
        : socket_(executor), endpoint_(endpoint)
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
                if (connected_)
                    return socket_.async_write_some(b, std::move(handler));
                connected_ = true;
                tfo::async_fastopen_connect(socket_, endpoint_, b, std::move(handler));
            },
            token, buffers);
    }

private:
    boost::asio::ip::tcp::socket socket_;
    boost::asio::ip::tcp::endpoint endpoint_;
    bool connected_ = false;
};

} // namespace tfo::test

#endif
