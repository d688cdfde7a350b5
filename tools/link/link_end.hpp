//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// One end of the emulated link: a private network namespace holding a TUN
// device with the end's addresses, and the probe that tells when a server
// there listens.
//

#ifndef TFO_TOOLS_LINK_LINK_END_HPP
#define TFO_TOOLS_LINK_LINK_END_HPP

#include <tfo/netns/private_netns.hpp>

#include <optional>
#include <string>

namespace tfo::link {

/// The addresses of one end and of its peer.
struct end_addresses
{
    const char* role;      ///< "client" or "server", for messages
    const char* local_v4;  ///< a point-to-point /32 ...
    const char* peer_v4;   ///< ... with this peer
    const char* local_v6;  ///< an on-link /64, without duplicate address detection
};

inline constexpr end_addresses client_end{"client", "10.200.0.1", "10.200.0.2", "fd00:200::1"};
inline constexpr end_addresses server_end{"server", "10.200.0.2", "10.200.0.1", "fd00:200::2"};

/// Builds the namespace of one end and returns the process to the one it
/// came from (where permitted): every descriptor bound to the namespace (the
/// TUN device, the sock_diag socket) is opened while inside it.
class link_end
{
public:
    /// `fastopen` is net.ipv4.tcp_fastopen there; `listen_probe` opens the
    /// sock_diag socket that `listening` needs. Throws std::runtime_error.
    link_end(const end_addresses& addresses, int fastopen, bool listen_probe, bool verbose);
    ~link_end();
    link_end(const link_end&) = delete;
    link_end& operator=(const link_end&) = delete;

    const end_addresses& addresses() const noexcept { return addresses_; }
    int namespace_handle() const noexcept { return namespace_.native_handle(); }
    int tun() const noexcept { return tun_; }
    bool has_ipv6() const noexcept { return ipv6_; }

    /// The sock_diag socket, or -1 without `listen_probe`.
    int diag() const noexcept { return diag_; }

    /// True if a TCP socket in this namespace listens on `port` (IPv4 or IPv6).
    /// Asks sock_diag, so nothing connects to the server.
    bool listening(int port);

private:
    end_addresses addresses_;
    tfo::netns::private_netns namespace_;
    int tun_ = -1;
    int diag_ = -1;
    bool ipv6_ = false;
    unsigned diag_sequence_ = 0;
};

} // namespace tfo::link

#endif
