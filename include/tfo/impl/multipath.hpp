//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_MULTIPATH_HPP
#define TFO_IMPL_MULTIPATH_HPP

#include <tfo/detail/throw_error.hpp>

#include <boost/asio/error.hpp>

namespace tfo {

template <typename Socket, typename Protocol>
    requires detail::adoptable_socket<Socket, Protocol> || detail::layered_adoptable_socket<Socket, Protocol>
multipath_open_result open_multipath(Socket& socket, const Protocol& protocol, boost::system::error_code& ec)
{
    if constexpr (detail::layered_adoptable_socket<Socket, Protocol>)
    {
        return open_multipath(socket.lowest_layer(), protocol, ec);
    }
    else
    {
        if (socket.is_open())
        {
            ec = boost::asio::error::already_open;
            return {};
        }
        multipath_open_result result;
        const auto fd = detail::platform::open_multipath_socket(protocol.family(), result.fallback);
        if (!result.fallback)
        {
            socket.assign(protocol, fd, ec);
            if (ec)
            {
                detail::platform::close_socket(fd);
                return {};
            }
            result.multipath = true;
            return result;
        }
        socket.open(protocol, ec);
        return ec ? multipath_open_result{} : result;
    }
}

template <typename Socket, typename Protocol>
    requires detail::adoptable_socket<Socket, Protocol> || detail::layered_adoptable_socket<Socket, Protocol>
multipath_open_result open_multipath(Socket& socket, const Protocol& protocol)
{
    return detail::call_or_throw("tfo::open_multipath",
                                 [&](boost::system::error_code& ec) { return open_multipath(socket, protocol, ec); });
}

template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
multipath_info get_multipath_info(Socket& socket, boost::system::error_code& ec)
{
    return detail::read_socket_state(socket, ec, detail::platform::read_multipath_info);
}

template <typename Socket>
    requires detail::native_socket<Socket> || detail::layered_socket_stream<Socket>
multipath_info get_multipath_info(Socket& socket)
{
    return detail::call_or_throw("tfo::get_multipath_info",
                                 [&](boost::system::error_code& ec) { return get_multipath_info(socket, ec); });
}

namespace detail {

// A connect that moves to another endpoint reopens its socket: these keep
// the user's choice of Multipath TCP across the reopen. What the socket is
// must be read while it is still open.
template <typename Socket>
bool opened_as_multipath(Socket& socket) noexcept
{
    return socket.is_open() && platform::opened_as_multipath(socket.native_handle());
}

template <typename Socket, typename Protocol>
void open_as(Socket& socket, const Protocol& protocol, bool multipath, boost::system::error_code& ec)
{
    if (multipath)
        open_multipath(socket, protocol, ec); // a fallback shows in get_multipath_info
    else
        socket.open(protocol, ec);
}

} // namespace detail

} // namespace tfo

#endif
