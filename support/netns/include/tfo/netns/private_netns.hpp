//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A private network namespace for the calling process: used by the tests, the
// demo, the benchmarks, tfo-doctor and tfo-link. Linux only; not installed.
//

#ifndef TFO_NETNS_PRIVATE_NETNS_HPP
#define TFO_NETNS_PRIVATE_NETNS_HPP

#include <optional>
#include <string>

namespace tfo::netns {

/// Why no private network namespace can be made here, or nothing when one can.
///
/// The probe runs once per process, in a forked child, so that it changes
/// nothing in the caller: no namespace is entered, no identity mapped.
std::optional<std::string> unavailable_reason();

/// Moves the (single-threaded) process into a fresh network namespace with
/// `lo` up and `net.ipv4.tcp_fastopen` set there; the host's own setting is
/// never touched. Without root, the process first enters a user namespace
/// of its own, once, in which it is root over the namespaces it makes.
///
/// The destructor returns to the original namespace where permitted; the
/// private one vanishes with its last socket. Each instance starts clean: no
/// cookies cached, counters at zero. Throws std::runtime_error when no
/// namespace can be made.
class private_netns
{
public:
    explicit private_netns(int tcp_fastopen = 3);
    ~private_netns();
    private_netns(const private_netns&) = delete;
    private_netns& operator=(const private_netns&) = delete;

    /// Changes `net.ipv4.tcp_fastopen` in this namespace.
    void set_tcp_fastopen(int value);

    /// Writes any per-namespace sysctl, named by its path under /proc/sys
    /// (e.g. "net/ipv4/ip_local_port_range").
    void set_sysctl(const std::string& name, const std::string& value);

    /// Runs a shell command inside the namespace (nft, ip); returns its exit status.
    static int run(const std::string& command);

    /// Installs an nftables ruleset in this namespace (`nft -f`); throws on failure.
    static void nft(const std::string& ruleset);

    /// A descriptor of this namespace (for setns), valid while this object lives.
    int native_handle() const noexcept { return self_; }

    /// Returns to the original namespace now, where permitted (without root
    /// the move is refused and the process stays). The namespace lives on
    /// while its handle, a socket or a device in it does. Called by the destructor.
    void leave() noexcept;

private:
    int original_ = -1;
    int self_ = -1;
};

/// Brings the interface `name` up in the calling thread's network namespace;
/// throws std::runtime_error on failure.
void set_link_up(const std::string& name);

} // namespace tfo::netns

#endif
