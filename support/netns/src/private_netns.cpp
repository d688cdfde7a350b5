//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/netns/private_netns.hpp>

#include <cerrno>
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
#include <sys/wait.h>
#include <unistd.h>

namespace tfo::netns {
namespace {

std::string errno_text(const char* what, int error = errno)
{
    return std::string(what) + ": " + std::strerror(error);
}

void write_file(const char* path, const std::string& text)
{
    std::ofstream out(path);
    out << text;
    out.flush();
    if (!out)
        throw std::runtime_error(std::string("cannot write ") + path);
}

// The identity maps of a user namespace in which the caller is root.
struct user_maps
{
    std::string uid_map;
    std::string gid_map;
};

user_maps maps_for_caller()
{
    return {"0 " + std::to_string(::geteuid()) + " 1", "0 " + std::to_string(::getegid()) + " 1"};
}

// Steps of the probe, reported by the child with the errno of the step that failed.
enum class probe_step : int
{
    user_namespace = 1,
    setgroups,
    uid_map,
    gid_map,
    network_namespace,
};

const char* describe(probe_step step)
{
    switch (step)
    {
    case probe_step::user_namespace: return "cannot create a user namespace: unshare(CLONE_NEWUSER)";
    case probe_step::setgroups: return "cannot create a user namespace: writing /proc/self/setgroups";
    case probe_step::uid_map: return "cannot create a user namespace: writing /proc/self/uid_map";
    case probe_step::gid_map: return "cannot create a user namespace: writing /proc/self/gid_map";
    case probe_step::network_namespace: return "unshare(CLONE_NEWNET)";
    }
    return "unknown step";
}

// Only system calls between fork and _exit: the parent may have threads.
bool write_all(const char* path, const std::string& text)
{
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

[[noreturn]] void probe_child(int report, bool as_root, const user_maps& maps)
{
    auto fail = [report](probe_step step) {
        const int message[2] = {static_cast<int>(step), errno};
        [[maybe_unused]] auto n = ::write(report, message, sizeof message);
        ::_exit(1);
    };
    if (!as_root)
    {
        if (::unshare(CLONE_NEWUSER) != 0)
            fail(probe_step::user_namespace);
        if (!write_all("/proc/self/setgroups", "deny"))
            fail(probe_step::setgroups);
        if (!write_all("/proc/self/uid_map", maps.uid_map))
            fail(probe_step::uid_map);
        if (!write_all("/proc/self/gid_map", maps.gid_map))
            fail(probe_step::gid_map);
    }
    if (::unshare(CLONE_NEWNET) != 0)
        fail(probe_step::network_namespace);
    ::_exit(0);
}

// Tries, in a child, what `private_netns` will do in this process.
std::optional<std::string> probe()
{
    const bool as_root = ::geteuid() == 0;
    const user_maps maps = maps_for_caller();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return errno_text("pipe");
    const pid_t pid = ::fork();
    if (pid < 0)
    {
        const int error = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        return errno_text("fork", error);
    }
    if (pid == 0)
    {
        ::close(fds[0]);
        probe_child(fds[1], as_root, maps);
    }
    ::close(fds[1]);
    int message[2] = {0, 0};
    ssize_t n;
    do
        n = ::read(fds[0], message, sizeof message);
    while (n < 0 && errno == EINTR);
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    if (n == static_cast<ssize_t>(sizeof message))
        return errno_text(describe(static_cast<probe_step>(message[0])), message[1]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return std::string("the namespace probe did not finish");
    return std::nullopt;
}

// Without root, a user namespace first makes us root over our own network
// namespaces. It must happen once, while the process is single-threaded.
std::optional<std::string> enter_user_namespace_once()
{
    static std::optional<std::string> result = []() -> std::optional<std::string> {
        if (::geteuid() == 0)
            return std::nullopt;
        const user_maps maps = maps_for_caller();
        if (::unshare(CLONE_NEWUSER) != 0)
            return errno_text("unshare(CLONE_NEWUSER)");
        try
        {
            write_file("/proc/self/setgroups", "deny");
            write_file("/proc/self/uid_map", maps.uid_map);
            write_file("/proc/self/gid_map", maps.gid_map);
        }
        catch (const std::exception& e)
        {
            return std::string(e.what());
        }
        return std::nullopt;
    }();
    return result;
}

} // namespace

std::optional<std::string> unavailable_reason()
{
    static const std::optional<std::string> reason = probe();
    return reason;
}

void set_link_up(const std::string& name)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error(errno_text("socket"));
    ifreq req{};
    name.copy(req.ifr_name, IFNAMSIZ - 1);
    int rc = ::ioctl(fd, SIOCGIFFLAGS, &req);
    if (rc == 0)
    {
        req.ifr_flags |= IFF_UP;
        rc = ::ioctl(fd, SIOCSIFFLAGS, &req);
    }
    const std::string error = rc == 0 ? std::string() : errno_text(("bringing " + name + " up").c_str());
    ::close(fd);
    if (!error.empty())
        throw std::runtime_error(error);
}

private_netns::private_netns(int tcp_fastopen)
{
    if (auto user = enter_user_namespace_once())
        throw std::runtime_error("no private network namespace: cannot create a user namespace: " + *user);
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_ < 0)
        throw std::runtime_error(errno_text("open /proc/thread-self/ns/net"));
    try
    {
        if (::unshare(CLONE_NEWNET) != 0)
            throw std::runtime_error("no private network namespace: " + errno_text("unshare(CLONE_NEWNET)"));
        self_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        // Never write a sysctl unless we really left the original namespace.
        struct stat home{}, here{};
        if (self_ < 0 || ::fstat(original_, &home) != 0 || ::fstat(self_, &here) != 0 || home.st_ino == here.st_ino)
            throw std::runtime_error("unshare(CLONE_NEWNET) left the process in its original namespace");
        set_link_up("lo");
        set_tcp_fastopen(tcp_fastopen);
    }
    catch (...)
    {
        leave();
        if (self_ >= 0)
            ::close(self_);
        throw;
    }
}

private_netns::~private_netns()
{
    leave();
    if (self_ >= 0)
        ::close(self_);
}

void private_netns::leave() noexcept
{
    // Back home, so that the next namespace is a sibling, not a child.
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

} // namespace tfo::netns
