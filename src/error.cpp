//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/error.hpp>

#include <string>

namespace tfo {
namespace {

class category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "tfo"; }

    std::string message(int ev) const override
    {
        switch (static_cast<error>(ev))
        {
        case error::invalid_key_size:
            return "A TCP Fast Open key must be 16 bytes (primary) or 32 bytes (primary then backup).";
        case error::sysctl_unavailable:
            return "Cannot read /proc/sys/net/ipv4/tcp_fastopen: TCP Fast Open needs Linux with /proc mounted.";
        case error::counters_unavailable:
            return "Cannot read the TcpExt counters from /proc/net/netstat: check that /proc is mounted.";
        case error::malformed_proc_file:
            return "A /proc file had an unexpected format; please report the kernel version and the file.";
        case error::not_a_connection:
            return "The socket is not a TCP connection: connect it, or take it from accept, before asking about "
                   "TCP Fast Open.";
        case error::not_supported:
            return "TCP Fast Open is not available on this platform.";
        case error::secret_too_short:
            return "The shared secret must be at least 16 bytes; generate one with "
                   "'head -c 32 /dev/urandom > secret'.";
        case error::secret_unreadable:
            return "The shared secret file could not be read: check its path and permissions.";
        case error::invalid_period:
            return "The key rotation period must be a positive number of seconds.";
        case error::multipath_disabled:
            return "Multipath TCP is switched off in this network namespace: set net.mptcp.enabled to 1, or "
                   "accept TCP.";
        case error::multipath_unavailable:
            return "Multipath TCP is not available here: it needs Linux 5.6 or later built with CONFIG_MPTCP "
                   "(Fast Open on it, 6.2).";
        }
        return "Unknown tfo error.";
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept
{
    static const category_impl instance;
    return instance;
}

} // namespace tfo
