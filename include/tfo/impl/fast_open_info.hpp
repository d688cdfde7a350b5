//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_FAST_OPEN_INFO_HPP
#define TFO_IMPL_FAST_OPEN_INFO_HPP

#include <tfo/detail/throw_error.hpp>

#include <boost/asio/error.hpp>

namespace tfo {

namespace detail {

// Reads what the kernel says of a socket, or of a layered stream's lowest
// layer, with `read(native handle, ec)`; `bad_descriptor` when it is closed.
template <typename Socket, typename Read>
auto read_socket_state(Socket& socket, boost::system::error_code& ec, Read read)
    -> decltype(read(platform::native_socket{}, ec))
{
    if constexpr (layered_socket_stream<Socket>)
    {
        return read_socket_state(socket.lowest_layer(), ec, read);
    }
    else
    {
        auto& s = const_cast<std::remove_const_t<Socket>&>(socket);
        if (!s.is_open())
        {
            ec = boost::asio::error::bad_descriptor;
            return {};
        }
        return read(s.native_handle(), ec);
    }
}

} // namespace detail

template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
fast_open_info get_fast_open_info(Socket& socket, boost::system::error_code& ec)
{
    return detail::read_socket_state(socket, ec, detail::platform::read_fast_open_info);
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
