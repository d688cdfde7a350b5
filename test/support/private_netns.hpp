//
// tfo: TCP Fast Open for Boost.Asio
//
// A private network namespace for the calling process: used by the tests,
// the demo and the diagnostic tool. Plain C++, no test framework.
//

#ifndef TFO_TEST_SUPPORT_PRIVATE_NETNS_HPP
#define TFO_TEST_SUPPORT_PRIVATE_NETNS_HPP

#include <optional>
#include <string>

namespace tfo::test {

/// Why no private network namespace can be made here, or nothing when one can.
/// Probed once per process.
std::optional<std::string> netns_unavailable_reason();

/// Moves the (single-threaded) process into a fresh network namespace with
/// `lo` up and `net.ipv4.tcp_fastopen` set there; the host's own setting is
/// never touched. The destructor returns to the original namespace where
/// permitted; the private one vanishes with its last socket. Each instance
/// starts clean: no cookies cached, counters at zero. Throws
/// std::runtime_error when no namespace can be made.
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

private:
    void leave() noexcept;

    int original_ = -1;
};

/// True when the running kernel is at least `major.minor`.
bool kernel_at_least(int major, int minor);

} // namespace tfo::test

#endif
