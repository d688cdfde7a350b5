//
// tfo: TCP Fast Open for Boost.Asio
//
// The platform seam where tfo has no Fast Open support: every connect is the
// ordinary one, the options fail with an error, the evidence says "not
// supported". doc/design.md says how macOS, FreeBSD and Windows would plug in.
//

#include <tfo/detail/platform.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/path_memory.hpp>

namespace tfo::detail::platform {

const bool has_fast_open = false;

syn_send_result send_syn(native_socket, const void*, std::size_t, const boost::asio::const_buffer*,
                         std::size_t) noexcept
{
    return {syn_send_outcome::fall_back, 0, {}};
}

handshake_outcome read_handshake_outcome(native_socket, const boost::system::error_code& wait_error) noexcept
{
    return outcome_of_connect_error(wait_error);
}

syn_evidence read_syn_evidence(native_socket) noexcept
{
    return {};
}

kernel_path_record read_kernel_path_record(const unsigned char*, std::size_t, boost::system::error_code& ec)
{
    ec = error::not_supported;
    return {};
}

fast_open_info read_fast_open_info(native_socket, boost::system::error_code& ec)
{
    ec = error::not_supported;
    return {};
}

option_id option_of(tcp_option) noexcept
{
    return {-1, 0};
}

} // namespace tfo::detail::platform
