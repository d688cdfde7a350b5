//
// tfo: TCP Fast Open for Boost.Asio
//

#include "private_netns.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <net/if.h>
#include <sched.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace tfo::test {
namespace {

std::string errno_text(const char* what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

void write_file(const char* path, const std::string& text)
{
    std::ofstream out(path);
    out << text;
    out.flush();
    if (!out)
        throw std::runtime_error(std::string("cannot write ") + path);
}

// Without root, a user namespace first makes us root over our own network
// namespaces. It must happen once, while the process is single-threaded.
std::optional<std::string> enter_user_namespace_once()
{
    static std::optional<std::string> result = []() -> std::optional<std::string> {
        if (::geteuid() == 0)
            return std::nullopt;
        const uid_t uid = ::geteuid();
        const gid_t gid = ::getegid();
        if (::unshare(CLONE_NEWUSER) != 0)
            return errno_text("unshare(CLONE_NEWUSER)");
        try
        {
            write_file("/proc/self/setgroups", "deny");
            write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
            write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
        }
        catch (const std::exception& e)
        {
            return std::string(e.what());
        }
        return std::nullopt;
    }();
    return result;
}

void bring_loopback_up()
{
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error(errno_text("socket"));
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ::ioctl(fd, SIOCGIFFLAGS, &req);
    if (rc == 0)
    {
        req.ifr_flags |= IFF_UP;
        rc = ::ioctl(fd, SIOCSIFFLAGS, &req);
    }
    const std::string error = rc == 0 ? std::string() : errno_text("bringing lo up");
    ::close(fd);
    if (!error.empty())
        throw std::runtime_error(error);
}

} // namespace

std::optional<std::string> netns_unavailable_reason()
{
    static std::optional<std::string> reason = []() -> std::optional<std::string> {
        if (auto user = enter_user_namespace_once())
            return "cannot create a user namespace: " + *user;
        int original = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (original < 0)
            return errno_text("open /proc/thread-self/ns/net");
        std::optional<std::string> why;
        if (::unshare(CLONE_NEWNET) != 0)
            why = errno_text("unshare(CLONE_NEWNET)");
        else
            ::setns(original, CLONE_NEWNET);
        ::close(original);
        return why;
    }();
    return reason;
}

private_netns::private_netns(int tcp_fastopen)
{
    if (auto reason = netns_unavailable_reason())
        throw std::runtime_error("no private network namespace: " + *reason);
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_ < 0)
        throw std::runtime_error(errno_text("open /proc/thread-self/ns/net"));
    try
    {
        if (::unshare(CLONE_NEWNET) != 0)
            throw std::runtime_error(errno_text("unshare(CLONE_NEWNET)"));
        // Never write a sysctl unless we really left the original namespace.
        struct stat home{}, here{};
        if (::fstat(original_, &home) != 0 || ::stat("/proc/thread-self/ns/net", &here) != 0 ||
            home.st_ino == here.st_ino)
            throw std::runtime_error("unshare(CLONE_NEWNET) left the process in its original namespace");
        bring_loopback_up();
        set_tcp_fastopen(tcp_fastopen);
    }
    catch (...)
    {
        leave();
        throw;
    }
}

private_netns::~private_netns()
{
    leave();
}

void private_netns::leave() noexcept
{
    // Back home, so that the next test's namespace is a sibling, not a child.
    // Without root the move is refused; staying is harmless, the next
    // unshare() gives a fresh namespace all the same.
    if (original_ >= 0)
    {
        ::setns(original_, CLONE_NEWNET);
        ::close(original_);
        original_ = -1;
    }
}

void private_netns::set_tcp_fastopen(int value)
{
    set_sysctl("net/ipv4/tcp_fastopen", std::to_string(value));
}

void private_netns::set_sysctl(const std::string& name, const std::string& value)
{
    // /proc/sys/net resolves to the namespace of the thread that opens it: ours.
    write_file(("/proc/sys/" + name).c_str(), value);
}

int private_netns::run(const std::string& command)
{
    // The child inherits our network namespace.
    return std::system(command.c_str());
}

void private_netns::nft(const std::string& ruleset)
{
    const std::string command = "nft -f - <<'TFO_NFT'\n" + ruleset + "\nTFO_NFT\n";
    if (run(command) != 0)
        throw std::runtime_error("nft failed (is nftables installed?) for:\n" + ruleset);
}

bool kernel_at_least(int major, int minor)
{
    utsname u{};
    ::uname(&u);
    int ma = 0, mi = 0;
    std::sscanf(u.release, "%d.%d", &ma, &mi);
    return ma > major || (ma == major && mi >= minor);
}

} // namespace tfo::test
