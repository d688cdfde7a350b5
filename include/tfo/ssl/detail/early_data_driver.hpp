//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The two drivers of the early-data algorithms (detail/early_data.hpp), one
// asynchronous and one synchronous, shared by all three. They perform the
// action an algorithm asks for and resume it with the result; they decide
// nothing. Included by tfo/ssl/impl/early_data.hpp, after the algorithms.
//

#ifndef TFO_SSL_DETAIL_EARLY_DATA_DRIVER_HPP
#define TFO_SSL_DETAIL_EARLY_DATA_DRIVER_HPP

#include <tfo/detail/completion.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <utility>

namespace tfo::ssl::detail {

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

// The answer to an action that needs no I/O, with the algorithm's `resume`.
template <typename Stream>
std::size_t answer(Stream& stream, action::kind what)
{
    return what == action::kind::count_readable ? readable_now(stream) : std::size_t{over_ipv6(stream)};
}

// The asynchronous driver, for async_compose: performs each action with the
// stream's asynchronous operations, on which it is a continuation, and
// completes through a post when no asynchronous step ran (the algorithm may
// be done at once: an empty buffer, an OpenSSL error).
template <typename NextLayer, typename Algorithm>
class early_data_op
{
public:
    early_data_op(boost::asio::ssl::stream<NextLayer>& stream, Algorithm algorithm)
        : stream_(stream), algorithm_(std::move(algorithm))
    {
    }

    template <typename Self>
    void operator()(Self& self)
    {
        run(self, {}, 0);
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec, std::size_t bytes = 0)
    {
        is_continuation_ = true;
        run(self, ec, bytes);
    }

private:
    template <typename Self>
    void run(Self& self, boost::system::error_code ec, std::size_t bytes)
    {
        for (;;)
        {
            const action next = algorithm_.resume(ec, bytes);
            switch (next.what)
            {
            case action::kind::write:
                return boost::asio::async_write(stream_.next_layer(), next.out, std::move(self));
            case action::kind::read_header:
            case action::kind::read_body:
                return boost::asio::async_read(stream_.next_layer(), next.in, std::move(self));
            case action::kind::count_readable:
            case action::kind::check_ipv6:
                ec = {};
                bytes = answer(stream_, next.what);
                continue;
            case action::kind::handshake:
                return stream_.async_handshake(boost::asio::ssl::stream_base::client, std::move(self));
            case action::kind::write_stream:
                return boost::asio::async_write(stream_, next.out, std::move(self));
            case action::kind::done:
                return tfo::detail::complete(self, is_continuation_, stream_, algorithm_.error(),
                                             algorithm_.result());
            }
        }
    }

    boost::asio::ssl::stream<NextLayer>& stream_;
    Algorithm algorithm_;
    bool is_continuation_ = false;
};

// The synchronous driver: the same actions, blocking.
template <typename NextLayer, typename Algorithm>
typename Algorithm::result_type run(boost::asio::ssl::stream<NextLayer>& stream, Algorithm algorithm,
                                    boost::system::error_code& ec)
{
    ec = {};
    std::size_t bytes = 0;
    for (;;)
    {
        const action next = algorithm.resume(ec, bytes);
        ec = {};
        bytes = 0;
        switch (next.what)
        {
        case action::kind::write:
            bytes = boost::asio::write(stream.next_layer(), next.out, ec);
            break;
        case action::kind::read_header:
        case action::kind::read_body:
            bytes = boost::asio::read(stream.next_layer(), next.in, ec);
            break;
        case action::kind::count_readable:
        case action::kind::check_ipv6:
            bytes = answer(stream, next.what);
            break;
        case action::kind::handshake:
            stream.handshake(boost::asio::ssl::stream_base::client, ec);
            break;
        case action::kind::write_stream:
            bytes = boost::asio::write(stream, next.out, ec);
            break;
        case action::kind::done:
            ec = algorithm.error();
            return algorithm.result();
        }
    }
}

} // namespace tfo::ssl::detail

#endif
