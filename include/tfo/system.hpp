//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_SYSTEM_HPP
#define TFO_SYSTEM_HPP

#include <tfo/detail/linux_tcp.hpp>

#include <boost/system/error_code.hpp>

#include <array>
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
    bool client_enabled() const noexcept { return (value & detail::sysctl_client_enable) != 0; }

    /// Bit 0x2: listeners with the `tfo::fast_open` option accept data in the SYN.
    bool server_enabled() const noexcept { return (value & detail::sysctl_server_enable) != 0; }

    /// Bit 0x4: with bit 0x1, clients send data in the SYN without waiting for a cookie.
    bool client_no_cookie() const noexcept { return (value & detail::sysctl_client_no_cookie) != 0; }

    /// Bit 0x200: with bit 0x2, servers accept data in the SYN without a cookie.
    bool server_no_cookie() const noexcept { return (value & detail::sysctl_server_no_cookie) != 0; }

    /// Bit 0x400: with bit 0x2, every listener accepts Fast Open, with or
    /// without the `tfo::fast_open` option. Alone it does nothing.
    bool server_without_option() const noexcept { return (value & detail::sysctl_server_without_option) != 0; }
};

/// One bit of `net.ipv4.tcp_fastopen`.
struct fast_open_sysctl_bit
{
    int mask;                 ///< the bit, e.g. 0x2
    int needs;                ///< the bit without which it does nothing, or 0
    std::string_view meaning; ///< what it does, in a few words
};

/// The bits of `net.ipv4.tcp_fastopen` that Linux documents
/// (Documentation/networking/ip-sysctl.rst), in increasing order.
inline constexpr std::array fast_open_sysctl_bits{
    fast_open_sysctl_bit{detail::sysctl_client_enable, 0, "clients send data in the SYN"},
    fast_open_sysctl_bit{detail::sysctl_server_enable, 0, "servers with tfo::fast_open accept data in the SYN"},
    fast_open_sysctl_bit{detail::sysctl_client_no_cookie, detail::sysctl_client_enable,
                         "clients send data without a cookie"},
    fast_open_sysctl_bit{detail::sysctl_server_no_cookie, detail::sysctl_server_enable,
                         "servers accept data without a cookie"},
    fast_open_sysctl_bit{detail::sysctl_server_without_option, detail::sysctl_server_enable,
                         "every listener does Fast Open, option or not"},
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
/// connection on one host bump their counters in the same namespace. What each
/// one counts is in `fast_open_counter_table`.
struct fast_open_counters
{
    std::uint64_t active = 0;          ///< TCPFastOpenActive
    std::uint64_t active_fail = 0;     ///< TCPFastOpenActiveFail
    std::uint64_t passive = 0;         ///< TCPFastOpenPassive
    std::uint64_t passive_fail = 0;    ///< TCPFastOpenPassiveFail
    std::uint64_t listen_overflow = 0; ///< TCPFastOpenListenOverflow
    std::uint64_t cookie_reqd = 0;     ///< TCPFastOpenCookieReqd
    std::uint64_t blackhole = 0;       ///< TCPFastOpenBlackhole
    std::uint64_t passive_alt_key = 0; ///< TCPFastOpenPassiveAltKey

    /// The counts between two readings: `after - before`, member by member.
    friend fast_open_counters operator-(const fast_open_counters& after, const fast_open_counters& before) noexcept;

    /// Equal when every counter is.
    friend bool operator==(const fast_open_counters&, const fast_open_counters&) = default;
};

/// One of the kernel's counters: its name, where `Counters`
/// (`fast_open_counters`, `multipath_counters`) keeps it, and what it counts.
template <typename Counters>
struct counter_row
{
    std::string_view kernel_name;    ///< in `/proc/net/netstat`, e.g. "TCPFastOpenActive"
    std::string_view name;           ///< the member's name, e.g. "active"
    std::uint64_t Counters::*member; ///< e.g. `&fast_open_counters::active`
    std::string_view side;           ///< the end that counts it: "client", "server", "sender", "receiver"
    std::string_view meaning;        ///< what it counts, in one line
};

/// A row of `fast_open_counter_table`.
using fast_open_counter = counter_row<fast_open_counters>;

/// Every counter of `fast_open_counters`, in the kernel's order. Parsing,
/// subtraction and every display (tfo-doctor, the demo) read this table, so a
/// new counter is one member above and one row here.
inline constexpr std::array fast_open_counter_table{
    fast_open_counter{"TCPFastOpenActive", "active", &fast_open_counters::active, "client",
                      "SYNs with data whose data the server acknowledged"},
    fast_open_counter{"TCPFastOpenActiveFail", "active_fail", &fast_open_counters::active_fail, "client",
                      "SYNs with data whose data was not acknowledged, or that were retransmitted"},
    fast_open_counter{"TCPFastOpenPassive", "passive", &fast_open_counters::passive, "server",
                      "connections a listener accepted through Fast Open (a valid cookie, or none needed)"},
    fast_open_counter{"TCPFastOpenPassiveFail", "passive_fail", &fast_open_counters::passive_fail, "server",
                      "SYNs whose cookie a listener rejected, or whose child socket it could not make"},
    fast_open_counter{"TCPFastOpenListenOverflow", "listen_overflow", &fast_open_counters::listen_overflow, "server",
                      "Fast Open SYNs handled as ordinary SYNs because a listener's Fast Open queue was full"},
    fast_open_counter{"TCPFastOpenCookieReqd", "cookie_reqd", &fast_open_counters::cookie_reqd, "server",
                      "SYNs that asked for a cookie, at any listener, whether or not it does Fast Open"},
    fast_open_counter{"TCPFastOpenBlackhole", "blackhole", &fast_open_counters::blackhole, "client",
                      "times the kernel suspected a middlebox and paused client Fast Open"},
    fast_open_counter{"TCPFastOpenPassiveAltKey", "passive_alt_key", &fast_open_counters::passive_alt_key, "server",
                      "cookies that matched a listener's backup key rather than its primary one"},
};

static_assert(sizeof(fast_open_counters) == fast_open_counter_table.size() * sizeof(std::uint64_t),
              "every member of fast_open_counters has a row in fast_open_counter_table");

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

/// The kernel's Multipath TCP counters (`MPTcpExt` in `/proc/net/netstat`,
/// Linux 5.6), counted since the network namespace was created; those that
/// say whether connections spoke Multipath TCP and how their subflows fared.
/// What each one counts is in `multipath_counter_table`.
struct multipath_counters
{
    std::uint64_t capable_syn_tx = 0;           ///< MPCapableSYNTX
    std::uint64_t capable_syn_rx = 0;           ///< MPCapableSYNRX
    std::uint64_t capable_syn_ack_rx = 0;       ///< MPCapableSYNACKRX
    std::uint64_t capable_ack_rx = 0;           ///< MPCapableACKRX
    std::uint64_t capable_fallback_ack = 0;     ///< MPCapableFallbackACK
    std::uint64_t capable_fallback_syn_ack = 0; ///< MPCapableFallbackSYNACK
    std::uint64_t retransmits = 0;              ///< MPTCPRetrans
    std::uint64_t join_syn_rx = 0;              ///< MPJoinSynRx
    std::uint64_t join_syn_ack_rx = 0;          ///< MPJoinSynAckRx
    std::uint64_t join_ack_rx = 0;              ///< MPJoinAckRx
    std::uint64_t join_syn_tx = 0;              ///< MPJoinSynTx
    std::uint64_t duplicate_data = 0;           ///< DuplicateData
    std::uint64_t subflow_stale = 0;            ///< SubflowStale
    std::uint64_t subflow_recover = 0;          ///< SubflowRecover

    /// The counts between two readings: `after - before`, member by member.
    friend multipath_counters operator-(const multipath_counters& after, const multipath_counters& before) noexcept;

    /// Equal when every counter is.
    friend bool operator==(const multipath_counters&, const multipath_counters&) = default;
};

/// A row of `multipath_counter_table`.
using multipath_counter = counter_row<multipath_counters>;

/// Every counter of `multipath_counters`, in the kernel's order.
inline constexpr std::array multipath_counter_table{
    multipath_counter{"MPCapableSYNRX", "capable_syn_rx", &multipath_counters::capable_syn_rx, "server",
                      "SYNs that asked for Multipath TCP, at a Multipath TCP listener"},
    multipath_counter{"MPCapableSYNTX", "capable_syn_tx", &multipath_counters::capable_syn_tx, "client",
                      "SYNs sent asking for Multipath TCP"},
    multipath_counter{"MPCapableSYNACKRX", "capable_syn_ack_rx", &multipath_counters::capable_syn_ack_rx, "client",
                      "SYN-ACKs that agreed to Multipath TCP"},
    multipath_counter{"MPCapableACKRX", "capable_ack_rx", &multipath_counters::capable_ack_rx, "server",
                      "handshakes a listener completed as Multipath TCP"},
    multipath_counter{"MPCapableFallbackACK", "capable_fallback_ack", &multipath_counters::capable_fallback_ack,
                      "server", "handshakes whose SYN asked for Multipath TCP but whose last ACK did not: TCP"},
    multipath_counter{"MPCapableFallbackSYNACK", "capable_fallback_syn_ack",
                      &multipath_counters::capable_fallback_syn_ack, "client",
                      "connections a Multipath TCP client made as TCP (the server did not agree)"},
    multipath_counter{"MPTCPRetrans", "retransmits", &multipath_counters::retransmits, "sender",
                      "data sent again at the Multipath TCP level, on the same or another subflow"},
    multipath_counter{"MPJoinSynRx", "join_syn_rx", &multipath_counters::join_syn_rx, "server",
                      "SYNs that asked to add a subflow to a connection"},
    multipath_counter{"MPJoinSynAckRx", "join_syn_ack_rx", &multipath_counters::join_syn_ack_rx, "client",
                      "SYN-ACKs that agreed to add a subflow"},
    multipath_counter{"MPJoinAckRx", "join_ack_rx", &multipath_counters::join_ack_rx, "server",
                      "subflows a server added to a connection"},
    multipath_counter{"MPJoinSynTx", "join_syn_tx", &multipath_counters::join_syn_tx, "client",
                      "SYNs sent to add a subflow to a connection"},
    multipath_counter{"DuplicateData", "duplicate_data", &multipath_counters::duplicate_data, "receiver",
                      "data received twice (on two subflows) and dropped: the application saw it once"},
    multipath_counter{"SubflowStale", "subflow_stale", &multipath_counters::subflow_stale, "sender",
                      "subflows found stalled, whose data then goes on the others"},
    multipath_counter{"SubflowRecover", "subflow_recover", &multipath_counters::subflow_recover, "sender",
                      "stalled subflows that came back"},
};

static_assert(sizeof(multipath_counters) == multipath_counter_table.size() * sizeof(std::uint64_t),
              "every member of multipath_counters has a row in multipath_counter_table");

/// Reads the Multipath TCP counters of the calling thread's network namespace.
/// @throws boost::system::system_error with `tfo::error::multipath_unavailable`
/// (no `MPTcpExt` section: a kernel without Multipath TCP, or another
/// platform) or `tfo::error::malformed_proc_file`.
multipath_counters kernel_multipath_counters();

/// Reads the Multipath TCP counters; errors as above, in `ec`.
multipath_counters kernel_multipath_counters(boost::system::error_code& ec);

/// Extracts the `MPTcpExt` counters from the text of `/proc/net/netstat`, as
/// `parse_netstat` does the `TcpExt` ones; `tfo::error::multipath_unavailable`
/// when there is no `MPTcpExt` section.
multipath_counters parse_multipath_netstat(std::string_view text, boost::system::error_code& ec);

/// Multipath TCP in the calling thread's network namespace.
struct multipath_support
{
    /// `net.mptcp.enabled` is 1: `tfo::open_multipath` opens Multipath TCP sockets.
    bool enabled = false;

    /// A Multipath TCP socket takes the Fast Open options (`tfo::fast_open`,
    /// `tfo::fast_open_deferred_connect`): Linux 6.2, tried on a socket opened
    /// for the purpose.
    bool fast_open = false;
};

/// Reads `net.mptcp.enabled` and tries the Fast Open options on a Multipath TCP socket.
/// @throws boost::system::system_error with `tfo::error::multipath_unavailable`
/// when the kernel has no Multipath TCP, or `tfo::error::malformed_proc_file`.
multipath_support system_multipath_support();

/// Reads Multipath TCP's support; errors as above, in `ec`.
multipath_support system_multipath_support(boost::system::error_code& ec);

} // namespace tfo

#endif
