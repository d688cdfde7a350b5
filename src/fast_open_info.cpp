//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/fast_open_info.hpp>

namespace tfo {

std::string_view to_string(client_failure f) noexcept
{
    switch (f)
    {
    case client_failure::unspecified: return "unspecified";
    case client_failure::cookie_unavailable: return "cookie unavailable";
    case client_failure::data_not_acked: return "data not acknowledged";
    case client_failure::syn_retransmitted: return "SYN retransmitted";
    }
    return "unknown";
}

} // namespace tfo
