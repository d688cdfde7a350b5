//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The Linux constants and the TCP_INFO layout, in one place. Used by the
// Linux side of the platform seam (src/platform/linux/) and by the sysctl
// decoding, which is Linux's own interface.
//
// We define them ourselves instead of including <linux/tcp.h>: that header
// clashes with glibc's <netinet/tcp.h> (both define struct tcphdr and the TCP_*
// macros), and glibc's own `struct tcp_info` stops before the Fast Open fields.
// Including neither keeps our headers usable whichever one the user includes.
//

#ifndef TFO_DETAIL_LINUX_TCP_HPP
#define TFO_DETAIL_LINUX_TCP_HPP

#include <cstddef>
#include <cstdint>

namespace tfo::detail {

// Socket option names at level IPPROTO_TCP (include/uapi/linux/tcp.h).
inline constexpr int tcp_info_option = 11;           // TCP_INFO
inline constexpr int tcp_fastopen_option = 23;       // TCP_FASTOPEN, Linux 3.7
inline constexpr int tcp_fastopen_connect_option = 30; // TCP_FASTOPEN_CONNECT, Linux 4.11
inline constexpr int tcp_fastopen_key_option = 33;   // TCP_FASTOPEN_KEY, Linux 4.20 (two keys: 5.3)
inline constexpr int tcp_fastopen_no_cookie_option = 34; // TCP_FASTOPEN_NO_COOKIE, Linux 4.15

inline constexpr unsigned msg_fastopen = 0x20000000; // MSG_FASTOPEN, Linux 3.7

// Bits of net.ipv4.tcp_fastopen (Documentation/networking/ip-sysctl.rst).
inline constexpr int sysctl_client_enable = 0x1;
inline constexpr int sysctl_server_enable = 0x2;
inline constexpr int sysctl_client_no_cookie = 0x4;
inline constexpr int sysctl_server_no_cookie = 0x200;
inline constexpr int sysctl_server_without_option = 0x400;

// tcpi_options bits.
inline constexpr std::uint8_t tcpi_opt_syn_data = 32;   // SYN-ACK acked data in SYN sent or received
inline constexpr std::uint8_t tcpi_opt_tfo_child = 128; // accepted via Fast Open, Linux 6.10

// tcpi_state values used here.
inline constexpr std::uint8_t tcp_state_established = 1;
inline constexpr std::uint8_t tcp_state_syn_sent = 2;
inline constexpr std::uint8_t tcp_state_close = 7;
inline constexpr std::uint8_t tcp_state_listen = 10;

// The first eight bytes of the kernel's struct tcp_info: all the Fast Open
// state lives there. The kernel copies min(requested, its own size), so asking
// for just this prefix works on every kernel. The bit-fields are declared as the
// kernel declares them so the compiler lays them out by the same ABI rules.
struct tcp_info_prefix
{
    std::uint8_t state;
    std::uint8_t ca_state;
    std::uint8_t retransmits;
    std::uint8_t probes;
    std::uint8_t backoff;
    std::uint8_t options;
    std::uint8_t snd_wscale : 4, rcv_wscale : 4;
    std::uint8_t delivery_rate_app_limited : 1, fastopen_client_fail : 2; // fail reason: Linux 5.5
};

static_assert(sizeof(tcp_info_prefix) == 8);

// The kernel's struct tcp_info up to tcpi_total_retrans (104 bytes, every
// kernel since 2.6): what a connect learns about its SYN, in one read.
struct tcp_info_connect
{
    tcp_info_prefix prefix;
    std::uint32_t rto, ato, snd_mss, rcv_mss;
    std::uint32_t unacked, sacked, lost, retrans, fackets;
    std::uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
    std::uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
    std::uint32_t rcv_rtt, rcv_space;
    std::uint32_t total_retrans;
};

static_assert(sizeof(tcp_info_connect) == 104);

// Multipath TCP (include/uapi/linux/in.h, tcp.h, mptcp.h; Linux 5.6).
inline constexpr int ipproto_mptcp = 262;     // IPPROTO_MPTCP
inline constexpr int tcp_is_mptcp_option = 43; // TCP_IS_MPTCP, Linux 5.16: 1 while MPTCP is in use, 0 after a fallback
inline constexpr int sol_mptcp = 284;          // SOL_MPTCP
inline constexpr int mptcp_info_option = 1;    // MPTCP_INFO

// The kernel's struct mptcp_info up to mptcpi_subflows_total (Linux 6.10).
// The kernel copies min(requested, its own size): an older one returns
// less, and the fields it lacks stay zero.
struct mptcp_info_prefix
{
    std::uint8_t subflows; // subflows the path manager added: the first one is not counted
    std::uint8_t add_addr_signal, add_addr_accepted, subflows_max;
    std::uint8_t add_addr_signal_max, add_addr_accepted_max;
    std::uint32_t flags;
    std::uint32_t token;
    std::uint64_t write_seq, snd_una, rcv_nxt;
    std::uint8_t local_addr_used, local_addr_max, csum_enabled;
    std::uint32_t retransmits; // Linux 6.6
    std::uint64_t bytes_retrans, bytes_sent, bytes_received, bytes_acked;
    std::uint8_t subflows_total; // every subflow, the first included (Linux 6.10)
};

static_assert(offsetof(mptcp_info_prefix, subflows_total) == 80);

} // namespace tfo::detail

#endif
