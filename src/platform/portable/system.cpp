//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam where tfo has no Fast Open support: no setting and no
// counters to read. Nothing is looked up on the file system, since a path
// such as /proc may lead somewhere unrelated (under Wine, to the Linux
// host's own /proc).
//

#include <tfo/detail/platform.hpp>

namespace tfo::detail::platform {

std::optional<std::string> fast_open_sysctl_text()
{
    return std::nullopt;
}

std::optional<std::string> multipath_sysctl_text()
{
    return std::nullopt;
}

std::optional<std::string> netstat_text()
{
    return std::nullopt;
}

} // namespace tfo::detail::platform
