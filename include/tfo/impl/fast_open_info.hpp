//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_FAST_OPEN_INFO_HPP
#define TFO_IMPL_FAST_OPEN_INFO_HPP

#include <tfo/detail/throw_error.hpp>

#include <boost/asio/error.hpp>

namespace tfo {

template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
fast_open_info get_fast_open_info(Socket& socket, boost::system::error_code& ec)
{
    if constexpr (detail::layered_socket_stream<Socket>)
    {
        return get_fast_open_info(socket.lowest_layer(), ec);
    }
    else
    {
        auto& s = const_cast<std::remove_const_t<Socket>&>(socket);
        if (!s.is_open())
        {
            ec = boost::asio::error::bad_descriptor;
            return {};
        }
        return detail::platform::read_fast_open_info(s.native_handle(), ec);
    }
}

template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
fast_open_info get_fast_open_info(Socket& socket)
{
    return detail::call_or_throw("tfo::get_fast_open_info",
                                 [&](boost::system::error_code& ec) { return get_fast_open_info(socket, ec); });
}

} // namespace tfo

#endif
