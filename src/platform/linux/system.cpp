//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam on Linux: the Fast Open and Multipath TCP settings and
// the counters, from /proc. All resolve to the network namespace of the
// calling thread.
//

#include <tfo/detail/platform.hpp>

#include <fstream>
#include <ios>
#include <iterator>

namespace tfo::detail::platform {

namespace {

std::optional<std::string> read_file(const char* path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    try
    {
        std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (in.bad())
            return std::nullopt;
        return text;
    }
    catch (const std::ios_base::failure&)
    {
        return std::nullopt; // libstdc++ throws for a read error of the file itself
    }
}

} // namespace

std::optional<std::string> fast_open_sysctl_text()
{
    // /proc/sys/net resolves to the namespace of the thread that opens it.
    return read_file("/proc/sys/net/ipv4/tcp_fastopen");
}

std::optional<std::string> multipath_sysctl_text()
{
    return read_file("/proc/sys/net/mptcp/enabled");
}

std::optional<std::string> netstat_text()
{
    // /proc/self/net would name the thread group leader's namespace, which
    // differs after setns() in a thread.
    if (auto text = read_file("/proc/thread-self/net/netstat"))
        return text;
    return read_file("/proc/self/net/netstat");
}

} // namespace tfo::detail::platform
