//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam where tfo has no Multipath TCP: every socket is TCP.
//

#include <tfo/detail/platform.hpp>
#include <tfo/error.hpp>
#include <tfo/multipath.hpp>

namespace tfo::detail::platform {

native_socket open_multipath_socket(int, boost::system::error_code& fallback) noexcept
{
    fallback = error::multipath_unavailable;
    return static_cast<native_socket>(-1);
}

void close_socket(native_socket) noexcept
{
}

bool opened_as_multipath(native_socket) noexcept
{
    return false;
}

multipath_info read_multipath_info(native_socket, boost::system::error_code& ec)
{
    ec.clear();
    return {};
}

bool multipath_takes_fast_open() noexcept
{
    return false;
}

} // namespace tfo::detail::platform
