//
// tfo: TCP Fast Open for Boost.Asio
//

#ifndef TFO_SYSTEM_HPP
#define TFO_SYSTEM_HPP

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string_view>

namespace tfo {

/// The `net.ipv4.tcp_fastopen` setting of the calling thread's network
/// namespace, decoded.
///
/// The setting is per network namespace: a container may see a different
/// value from its host.
struct fast_open_support
{
    /// The raw value of the sysctl.
    int value = 0;

    /// Bit 0x1: clients may send data in the SYN (`MSG_FASTOPEN`,
    /// `TCP_FASTOPEN_CONNECT`). Linux's default is 1.
    bool client_enabled() const noexcept { return (value & 0x1) != 0; }

    /// Bit 0x2: listeners with the `tfo::fast_open` option accept data in the SYN.
    bool server_enabled() const noexcept { return (value & 0x2) != 0; }

    /// Bit 0x4: with bit 0x1, clients send data in the SYN without waiting for a cookie.
    bool client_no_cookie() const noexcept { return (value & 0x4) != 0; }

    /// Bit 0x200: with bit 0x2, servers accept data in the SYN without a cookie.
    bool server_no_cookie() const noexcept { return (value & 0x200) != 0; }

    /// Bit 0x400: with bit 0x2, every listener accepts Fast Open, with or
    /// without the `tfo::fast_open` option.
    bool server_without_option() const noexcept { return (value & 0x400) != 0; }
};

/// Reads and decodes `/proc/sys/net/ipv4/tcp_fastopen`.
/// @throws boost::system::system_error with `tfo::error::sysctl_unavailable`
/// when the file cannot be read, or `tfo::error::malformed_proc_file`.
fast_open_support system_support();

/// Reads and decodes `/proc/sys/net/ipv4/tcp_fastopen`; errors as above, in `ec`.
fast_open_support system_support(boost::system::error_code& ec);

/// Decodes the text of `/proc/sys/net/ipv4/tcp_fastopen` (a decimal number
/// and a newline). Sets `tfo::error::malformed_proc_file` on anything else.
fast_open_support parse_fast_open_sysctl(std::string_view text, boost::system::error_code& ec);

/// The kernel's TCP Fast Open counters (`TcpExt` in `/proc/net/netstat`),
/// counted since the network namespace was created. The two sides of a
/// connection on one host bump their counters in the same namespace.
struct fast_open_counters
{
    std::uint64_t active = 0;          ///< TCPFastOpenActive: a client's SYN data was acknowledged.
    std::uint64_t active_fail = 0;     ///< TCPFastOpenActiveFail: a client's SYN data was not acknowledged, or the SYN timed out.
    std::uint64_t passive = 0;         ///< TCPFastOpenPassive: a server accepted a connection with data in the SYN.
    std::uint64_t passive_fail = 0;    ///< TCPFastOpenPassiveFail: a server rejected a cookie, or failed to make the child socket.
    std::uint64_t listen_overflow = 0; ///< TCPFastOpenListenOverflow: the pending Fast Open queue was full; a normal handshake followed.
    std::uint64_t cookie_reqd = 0;     ///< TCPFastOpenCookieReqd: a server received a SYN that asked for a cookie.
    std::uint64_t blackhole = 0;       ///< TCPFastOpenBlackhole: the kernel suspects a middlebox drops Fast Open and turned it off for a while.
    std::uint64_t passive_alt_key = 0; ///< TCPFastOpenPassiveAltKey: a cookie matched the listener's backup key.

    /// The counts between two readings: `after - before`.
    friend fast_open_counters operator-(const fast_open_counters& after, const fast_open_counters& before) noexcept;

    friend bool operator==(const fast_open_counters&, const fast_open_counters&) = default;
};

/// Reads the TCP Fast Open counters of the calling thread's network namespace.
/// @throws boost::system::system_error with `tfo::error::counters_unavailable`
/// or `tfo::error::malformed_proc_file`.
fast_open_counters kernel_counters();

/// Reads the TCP Fast Open counters; errors as above, in `ec`.
fast_open_counters kernel_counters(boost::system::error_code& ec);

/// Extracts the `TCPFastOpen*` counters from the text of `/proc/net/netstat`.
///
/// Fields are found by their names in the `TcpExt:` header line, never by
/// position; a counter the kernel does not have stays 0. Sets
/// `tfo::error::counters_unavailable` when there is no `TcpExt` section and
/// `tfo::error::malformed_proc_file` when names and values do not pair up.
fast_open_counters parse_netstat(std::string_view text, boost::system::error_code& ec);

} // namespace tfo

#endif
