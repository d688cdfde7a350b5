//
// tfo: TCP Fast Open for Boost.Asio
//

#include <tfo/detail/linux_tcp.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_info.hpp>

#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>

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

namespace detail {

fast_open_info read_fast_open_info(int native_handle, boost::system::error_code& ec)
{
    if constexpr (!platform_has_fast_open)
    {
        ec = error::not_supported;
        return {};
    }
    tcp_info_prefix raw{};
    socklen_t len = sizeof(raw);
    if (::getsockopt(native_handle, IPPROTO_TCP, tcp_info_option, &raw, &len) != 0)
    {
        ec.assign(errno, boost::system::system_category());
        return {};
    }
    if (len < sizeof(raw))
    {
        ec = error::not_supported;
        return {};
    }
    // A listener, or a socket that never sent a SYN, has no Fast Open state.
    // A connection that already ended is in CLOSE too, but still knows what happened.
    if (raw.state == tcp_state_listen || (raw.state == tcp_state_close && raw.options == 0))
    {
        ec = error::not_a_connection;
        return {};
    }
    ec.clear();
    fast_open_info info;
    info.syn_data_acked = (raw.options & tcpi_opt_syn_data) != 0;
    info.fast_open_child = (raw.options & tcpi_opt_tfo_child) != 0;
    info.failure = static_cast<client_failure>(raw.fastopen_client_fail);
    info.state = static_cast<tcp_state>(raw.state);
    return info;
}

} // namespace detail
} // namespace tfo
