//
// tfo: TCP Fast Open for Boost.Asio
//

#ifndef TFO_IMPL_FAST_OPEN_INFO_HPP
#define TFO_IMPL_FAST_OPEN_INFO_HPP

#include <boost/asio/error.hpp>
#include <boost/throw_exception.hpp>
#include <boost/system/system_error.hpp>

namespace tfo {

template <detail::native_socket Socket>
fast_open_info get_fast_open_info(Socket& socket, boost::system::error_code& ec)
{
    if (!socket.is_open())
    {
        ec = boost::asio::error::bad_descriptor;
        return {};
    }
    return detail::platform::read_fast_open_info(socket.native_handle(), ec);
}

template <detail::native_socket Socket>
fast_open_info get_fast_open_info(Socket& socket)
{
    boost::system::error_code ec;
    fast_open_info info = get_fast_open_info(socket, ec);
    if (ec)
        boost::throw_exception(boost::system::system_error(ec, "tfo::get_fast_open_info"));
    return info;
}

} // namespace tfo

#endif
