//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_SSL_IMPL_EARLY_DATA_HPP
#define TFO_SSL_IMPL_EARLY_DATA_HPP

#include <tfo/ssl/detail/early_data.hpp>
#include <tfo/ssl/detail/early_data_driver.hpp>

#include <tfo/detail/completion.hpp>
#include <tfo/detail/throw_error.hpp>

#include <boost/asio/compose.hpp>

namespace tfo::ssl {

template <typename NextLayer, typename ConstBufferSequence, typename CompletionToken>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                               replay_safety safety, CompletionToken&& token)
{
    using algorithm = detail::handshake_and_write_algorithm;
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, early_data_outcome)>(
        detail::early_data_op<NextLayer, algorithm>(
            stream, algorithm(stream.native_handle(), detail::make_contiguous(request), safety)),
        token, stream);
}

template <typename NextLayer, typename MutableBufferSequence, typename CompletionToken>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
auto async_read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers,
                           CompletionToken&& token)
{
    using algorithm = detail::read_early_data_algorithm;
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::size_t)>(
        detail::early_data_op<NextLayer, algorithm>(
            stream, algorithm(stream.native_handle(), detail::first_buffer(buffers))),
        token, stream);
}

template <typename NextLayer, typename ConstBufferSequence, typename CompletionToken>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto async_write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers,
                            CompletionToken&& token)
{
    using algorithm = detail::write_early_data_algorithm;
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::size_t)>(
        detail::early_data_op<NextLayer, algorithm>(
            stream, algorithm(stream.native_handle(), detail::make_contiguous(buffers))),
        token, stream);
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
early_data_outcome handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                                       replay_safety safety, boost::system::error_code& ec)
{
    return detail::run(stream,
                       detail::handshake_and_write_algorithm(stream.native_handle(), detail::make_contiguous(request),
                                                             safety),
                       ec);
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
early_data_outcome handshake_and_write(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& request,
                                       replay_safety safety)
{
    return tfo::detail::call_or_throw("tfo::ssl::handshake_and_write", [&](boost::system::error_code& ec) {
        return handshake_and_write(stream, request, safety, ec);
    });
}

template <typename NextLayer, typename MutableBufferSequence>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
std::size_t read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers,
                            boost::system::error_code& ec)
{
    return detail::run(stream, detail::read_early_data_algorithm(stream.native_handle(), detail::first_buffer(buffers)),
                       ec);
}

template <typename NextLayer, typename MutableBufferSequence>
    requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
std::size_t read_early_data(boost::asio::ssl::stream<NextLayer>& stream, const MutableBufferSequence& buffers)
{
    return tfo::detail::call_or_throw("tfo::ssl::read_early_data", [&](boost::system::error_code& ec) {
        return read_early_data(stream, buffers, ec);
    });
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers,
                             boost::system::error_code& ec)
{
    return detail::run(stream,
                       detail::write_early_data_algorithm(stream.native_handle(), detail::make_contiguous(buffers)),
                       ec);
}

template <typename NextLayer, typename ConstBufferSequence>
    requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value
std::size_t write_early_data(boost::asio::ssl::stream<NextLayer>& stream, const ConstBufferSequence& buffers)
{
    return tfo::detail::call_or_throw("tfo::ssl::write_early_data", [&](boost::system::error_code& ec) {
        return write_early_data(stream, buffers, ec);
    });
}

template <typename NextLayer>
bool early_data_accepted(boost::asio::ssl::stream<NextLayer>& stream)
{
    return SSL_get_early_data_status(stream.native_handle()) == SSL_EARLY_DATA_ACCEPTED;
}

} // namespace tfo::ssl

#endif
