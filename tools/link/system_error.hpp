//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// How tfo-link reports a failed system call.
//

#ifndef TFO_TOOLS_LINK_SYSTEM_ERROR_HPP
#define TFO_TOOLS_LINK_SYSTEM_ERROR_HPP

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tfo::link {

inline std::string errno_text(const std::string& what, int error = errno)
{
    return what + ": " + std::strerror(error);
}

[[noreturn]] inline void throw_errno(const std::string& what)
{
    throw std::runtime_error(errno_text(what));
}

} // namespace tfo::link

#endif
