//
// tfo: TCP Fast Open for Boost.Asio
//
// The private network namespace every real-TFO test runs in.
//

#ifndef TFO_TEST_SUPPORT_NETNS_HPP
#define TFO_TEST_SUPPORT_NETNS_HPP

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

namespace tfo::test {

/// Why no private network namespace can be made here, or nothing when one can.
/// Probed once per process.
std::optional<std::string> netns_unavailable_reason();

/// A Boost.Test precondition: skips the test, with the reason, where no
/// namespace can be made. When TFO_REQUIRE_NETNS=1 (CI, root) the test runs
/// anyway so that the fixture fails it instead of letting it be skipped.
boost::test_tools::assertion_result netns_available(boost::unit_test::test_unit_id);

/// Moves the (single-threaded) test process into a fresh network namespace
/// with `lo` up and `net.ipv4.tcp_fastopen` set there; the host's own
/// setting is never touched. The destructor returns to the original
/// namespace where permitted; the private one vanishes with its last socket.
/// Each instance starts clean: no cookies cached, counters at zero.
class private_netns
{
public:
    explicit private_netns(int tcp_fastopen = 3);
    ~private_netns();
    private_netns(const private_netns&) = delete;
    private_netns& operator=(const private_netns&) = delete;

    /// Changes `net.ipv4.tcp_fastopen` in this namespace.
    void set_tcp_fastopen(int value);

    /// Runs a shell command inside the namespace (nft, ip); returns its exit status.
    static int run(const std::string& command);

    /// Installs an nftables ruleset in this namespace (`nft -f`); throws on failure.
    static void nft(const std::string& ruleset);

private:
    int original_ = -1;
};

/// True when the running kernel is at least `major.minor`.
bool kernel_at_least(int major, int minor);

} // namespace tfo::test

#endif
