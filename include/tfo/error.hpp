//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_ERROR_HPP
#define TFO_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tfo {

/// Errors raised by `tfo` itself.
///
/// Errors reported by the operating system keep their system category
/// (`boost::asio::error::connection_refused` and so on); these values cover
/// what the library detects on its own. The category is `tfo::error_category()`
/// and every message is a sentence that says what to do.
enum class error
{
    /// A TCP Fast Open key was not 16 bytes (primary) or 32 bytes (primary and backup).
    invalid_key_size = 1,

    /// `/proc/sys/net/ipv4/tcp_fastopen` could not be read: not Linux, or `/proc` is not mounted.
    sysctl_unavailable,

    /// `/proc/net/netstat` could not be read, or has no `TcpExt` section.
    counters_unavailable,

    /// A `/proc` file did not have the expected format.
    malformed_proc_file,

    /// The socket is not a connection (listening or never connected), so it has no TCP Fast Open state.
    not_a_connection,

    /// TCP Fast Open is not available on this platform.
    not_supported,

    /// A key schedule's shared secret was shorter than 16 bytes.
    secret_too_short,

    /// A key schedule's secret file could not be read.
    secret_unreadable,

    /// A key schedule's period was not a positive number of seconds.
    invalid_period,

    /// Multipath TCP is switched off in this network namespace (`net.mptcp.enabled` is 0).
    multipath_disabled,

    /// Multipath TCP is not available: a kernel without it (before Linux 5.6,
    /// or built without `CONFIG_MPTCP`), or another platform.
    multipath_unavailable
};

/// The category of `tfo::error`.
const boost::system::error_category& error_category() noexcept;

/// Makes an `error_code` from a `tfo::error`; found by argument-dependent lookup.
inline boost::system::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

} // namespace tfo

template <>
struct boost::system::is_error_code_enum<tfo::error> : std::true_type
{
};

#endif
