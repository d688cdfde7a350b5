//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam: every operating-system specific step the library takes
// is declared here and defined once per platform in src/platform/<os>/, the
// directory chosen by CMake. src/platform/portable/ serves every system
// without Fast Open support in tfo: the connect falls back to the ordinary
// way, the options fail, and the evidence says "not available here". Nothing
// outside the seam tests for an operating system.
//
// This header includes no socket header, so that the public headers that need
// it also work beside <linux/tcp.h>.
//

#ifndef TFO_DETAIL_PLATFORM_HPP
#define TFO_DETAIL_PLATFORM_HPP

#include <tfo/detail/connect_steps.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace tfo {
struct fast_open_info;
struct kernel_path_record;
struct multipath_info;
} // namespace tfo

namespace tfo::detail::platform {

#if defined(_WIN32)
using native_socket = std::uintptr_t; // SOCKET
#else
using native_socket = int;
#endif

/// Whether this platform's build of tfo puts data in SYNs at all.
extern const bool has_fast_open;

/// Sends the SYN to `address` with as much of `buffers` as the kernel puts
/// in it, never blocking, and classifies the result. `fall_back` when the
/// platform or its settings do not allow Fast Open.
syn_send_result send_syn(native_socket s, const void* address, std::size_t address_length,
                         const boost::asio::const_buffer* buffers, std::size_t count) noexcept;

/// The outcome of a connect that was in flight on `s`, once the wait for it
/// ended with `wait_error` (none when the socket became writable): the
/// pending error, whether the connection was ever established, and what the
/// kernel recorded about its SYN, from the kernel's own record where it has
/// one. On an established connection this is one system call (`TCP_INFO`).
/// When the kernel says the SYN is still outstanding although the wait
/// reported readiness, the outcome is `unanswered`: the wake-up was stale.
handshake_outcome read_handshake_outcome(native_socket s, const boost::system::error_code& wait_error) noexcept;

/// Whether the SYN sent on `s` has had its answer (a SYN-ACK or a reset) by
/// now, whether or not the event loop has seen it yet: a hedge whose timer
/// ran late on a busy io_context must not race a connection that is there.
bool syn_answered(native_socket s) noexcept;

/// The address family of the open socket `s` (`AF_INET`, `AF_INET6`), also
/// when it is not bound yet, where `getsockname` fails on Windows.
int socket_family(native_socket s, boost::system::error_code& ec) noexcept;

/// What the kernel recorded about the SYN of the connection on `s`
/// (`read == false` where the platform cannot say).
syn_evidence read_syn_evidence(native_socket s) noexcept;

/// The kernel's per-destination record (`tcp_metrics` on Linux) for the
/// address of `length` bytes (4: IPv4, 16: IPv6) in network order.
kernel_path_record read_kernel_path_record(const unsigned char* address, std::size_t length,
                                           boost::system::error_code& ec);

/// Called for each entry of the kernel's per-destination table: the address
/// (`length` 4 or 16 bytes, network order) and what the kernel keeps for it.
using kernel_path_visitor =
    std::function<void(const unsigned char* address, std::size_t length, const kernel_path_record& record)>;

/// Reads the whole per-destination table (one `tcp_metrics` dump on Linux:
/// a few system calls per few hundred entries) and calls `visit` for each
/// entry; an address with entries for several source addresses comes once
/// for each.
void dump_kernel_path_records(const kernel_path_visitor& visit, boost::system::error_code& ec);

/// Reads the Fast Open state of a connection (`TCP_INFO` on Linux).
fast_open_info read_fast_open_info(native_socket s, boost::system::error_code& ec);

/// Which socket a descriptor names (on Linux the device and inode of its
/// file), so that a descriptor number reused after a close is never taken
/// for the old socket.
struct socket_identity
{
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    friend bool operator==(const socket_identity&, const socket_identity&) = default;
};

/// The identity of the listening socket `s`. Errors: `bad_descriptor` (not
/// open), `invalid_argument` (open but not listening), `not_supported`.
socket_identity listener_identity(native_socket s, boost::system::error_code& ec) noexcept;

/// Sets a socket option on `s` by its level and name, as `set_option` does
/// without an Asio object.
void set_socket_option(native_socket s, int level, int name, const void* data, std::size_t size,
                       boost::system::error_code& ec) noexcept;

/// A TCP socket option: its level and name. Where the platform lacks the
/// option, a name no system gives a TCP option, so that setting or getting it
/// fails with `boost::asio::error::no_protocol_option` (`ENOPROTOOPT`,
/// `WSAENOPROTOOPT`) rather than touching another option.
struct option_id
{
    int level;
    int name;
};

enum class tcp_option
{
    fast_open,
    fast_open_deferred_connect,
    fast_open_key,
    fast_open_no_cookie
};

/// This platform's level and name for `option`.
option_id option_of(tcp_option option) noexcept;

/// The text of the system's Fast Open setting, for `parse_fast_open_sysctl`
/// (`/proc/sys/net/ipv4/tcp_fastopen` of the calling thread's network
/// namespace on Linux); nothing where the platform has no such setting.
std::optional<std::string> fast_open_sysctl_text();

/// The text of the kernel's TCP counters, for `parse_netstat`
/// (`/proc/net/netstat` of the calling thread's network namespace on Linux);
/// nothing where the platform has no such counters.
std::optional<std::string> netstat_text();

// Multipath TCP (src/platform/<os>/multipath.cpp).

/// Opens a stream socket of `family` as Multipath TCP. Where that cannot be
/// done, returns an invalid socket and says why in `fallback`:
/// `tfo::error::multipath_disabled` (switched off in this network namespace),
/// `tfo::error::multipath_unavailable` (no MPTCP here), or the system's error.
native_socket open_multipath_socket(int family, boost::system::error_code& fallback) noexcept;

/// Closes a socket that `open_multipath_socket` opened and nothing adopted.
void close_socket(native_socket s) noexcept;

/// Whether the open socket `s` was opened as Multipath TCP, whatever the
/// connection speaks now.
bool opened_as_multipath(native_socket s) noexcept;

/// What the kernel says about Multipath TCP on `s` (`SO_PROTOCOL`,
/// `TCP_IS_MPTCP`, `MPTCP_INFO` on Linux).
multipath_info read_multipath_info(native_socket s, boost::system::error_code& ec);

/// The text of the system's Multipath TCP switch (`net.mptcp.enabled` of the
/// calling thread's network namespace on Linux); nothing where there is none.
std::optional<std::string> multipath_sysctl_text();

/// Whether a Multipath TCP socket opened now, in the calling thread's
/// network namespace, takes the Fast Open options (Linux 6.2).
bool multipath_takes_fast_open() noexcept;

} // namespace tfo::detail::platform

#endif
