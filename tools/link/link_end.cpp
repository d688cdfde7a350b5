//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "link_end.hpp"

#include "system_error.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tfo::link {
namespace {

constexpr const char* tun_name = "tfo0";
constexpr int tun_mtu = 1500;
constexpr int tun_queue_length = 1000;

// A descriptor closed at the end of a scope.
class scoped_fd
{
public:
    explicit scoped_fd(int fd) : fd_(fd) {}
    ~scoped_fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    scoped_fd(const scoped_fd&) = delete;
    scoped_fd& operator=(const scoped_fd&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

ifreq request_for(const char* name)
{
    ifreq request{};
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    return request;
}

void interface_ioctl(int socket, unsigned long request, ifreq& data, const char* what)
{
    if (::ioctl(socket, request, &data) != 0)
        throw_errno(what);
}

// Adds an address over rtnetlink: ioctl can neither set a peer for IPv6 nor
// skip duplicate address detection. Returns the error, or an empty string.
std::string add_address(int family, int interface_index, const void* local, const void* peer, int prefix)
{
    const scoped_fd netlink(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (netlink.get() < 0)
        return errno_text("netlink socket");
    const std::size_t address_size = family == AF_INET ? 4 : 16;
    struct
    {
        nlmsghdr header;
        ifaddrmsg message;
        char attributes[128];
    } request{};
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
    request.header.nlmsg_type = RTM_NEWADDR;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    request.header.nlmsg_seq = 1;
    request.message.ifa_family = static_cast<std::uint8_t>(family);
    request.message.ifa_prefixlen = static_cast<std::uint8_t>(prefix);
    // No duplicate address detection: the address must be usable at once.
    request.message.ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
    request.message.ifa_scope = RT_SCOPE_UNIVERSE;
    request.message.ifa_index = static_cast<unsigned>(interface_index);
    auto add_attribute = [&](unsigned short type, const void* data, std::size_t size) {
        auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&request) +
                                                    NLMSG_ALIGN(request.header.nlmsg_len));
        attribute->rta_type = type;
        attribute->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
        std::memcpy(RTA_DATA(attribute), data, size);
        request.header.nlmsg_len = NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attribute->rta_len);
    };
    add_attribute(IFA_LOCAL, local, address_size);
    add_attribute(IFA_ADDRESS, peer ? peer : local, address_size);

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(netlink.get(), &request, request.header.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel) < 0)
        return errno_text("netlink send");
    alignas(nlmsghdr) char reply[4096];
    const ssize_t n = ::recv(netlink.get(), reply, sizeof reply, 0);
    if (n < 0)
        return errno_text("netlink recv");
    auto* header = reinterpret_cast<nlmsghdr*>(reply);
    if (!NLMSG_OK(header, static_cast<std::size_t>(n)) || header->nlmsg_type != NLMSG_ERROR)
        return "netlink: unexpected reply";
    if (const int error = -static_cast<nlmsgerr*>(NLMSG_DATA(header))->error; error != 0)
        return errno_text("RTM_NEWADDR", error);
    return {};
}

} // namespace

link_end::link_end(const end_addresses& addresses, int fastopen, bool listen_probe, bool verbose)
    : addresses_(addresses), namespace_(fastopen)
{
    try
    {
        // Older kernels turn Fast Open off after suspected middlebox drops;
        // with --loss that would silently end it mid-benchmark. Absent on some kernels.
        try
        {
            namespace_.set_sysctl("net/ipv4/tcp_fastopen_blackhole_timeout_sec", "0");
        }
        catch (const std::exception&)
        {
        }

        tun_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (tun_ < 0)
            throw_errno("open /dev/net/tun");
        ifreq request = request_for(tun_name);
        request.ifr_flags = IFF_TUN | IFF_NO_PI;
        interface_ioctl(tun_, TUNSETIFF, request, "TUNSETIFF");

        const scoped_fd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (control.get() < 0)
            throw_errno("socket");
        request = request_for(tun_name);
        interface_ioctl(control.get(), SIOCGIFINDEX, request, "SIOCGIFINDEX");
        const int interface_index = request.ifr_ifindex;
        request = request_for(tun_name);
        request.ifr_mtu = tun_mtu;
        interface_ioctl(control.get(), SIOCSIFMTU, request, "SIOCSIFMTU");
        request = request_for(tun_name);
        request.ifr_qlen = tun_queue_length;
        interface_ioctl(control.get(), SIOCSIFTXQLEN, request, "SIOCSIFTXQLEN");
        // No link-local address: keeps router solicitations and MLD off the link.
        try
        {
            namespace_.set_sysctl(std::string("net/ipv6/conf/") + tun_name + "/addr_gen_mode", "1");
        }
        catch (const std::exception&)
        {
        }
        tfo::netns::set_link_up(tun_name);

        in_addr local_v4{}, peer_v4{};
        ::inet_pton(AF_INET, addresses.local_v4, &local_v4);
        ::inet_pton(AF_INET, addresses.peer_v4, &peer_v4);
        if (auto error = add_address(AF_INET, interface_index, &local_v4, &peer_v4, 32); !error.empty())
            throw std::runtime_error(std::string("adding ") + addresses.local_v4 + " peer " + addresses.peer_v4 +
                                     " in the " + addresses.role + " namespace: " + error);
        in6_addr local_v6{};
        ::inet_pton(AF_INET6, addresses.local_v6, &local_v6);
        // A TUN device has no neighbour discovery, so an on-link /64 just works.
        const auto error = add_address(AF_INET6, interface_index, &local_v6, nullptr, 64);
        ipv6_ = error.empty();
        if (!ipv6_ && verbose)
            std::cerr << "tfo-link: IPv6 unavailable in the " << addresses.role << " namespace: " << error << '\n';

        if (listen_probe)
        {
            diag_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
            if (diag_ < 0)
                throw_errno("sock_diag socket");
        }
        namespace_.leave();
    }
    catch (...)
    {
        if (tun_ >= 0)
            ::close(tun_);
        if (diag_ >= 0)
            ::close(diag_);
        throw;
    }
}

link_end::~link_end()
{
    if (tun_ >= 0)
        ::close(tun_);
    if (diag_ >= 0)
        ::close(diag_);
}

bool link_end::listening(int port)
{
    for (const int family : {AF_INET, AF_INET6})
    {
        struct
        {
            nlmsghdr header;
            inet_diag_req_v2 request;
        } query{};
        query.header.nlmsg_len = sizeof query;
        query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        query.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        query.header.nlmsg_seq = ++diag_sequence_;
        query.request.sdiag_family = static_cast<std::uint8_t>(family);
        query.request.sdiag_protocol = IPPROTO_TCP;
        query.request.idiag_states = 1u << 10; // TCP_LISTEN
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        if (::sendto(diag_, &query, sizeof query, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
            throw_errno("sock_diag send");
        bool found = false, done = false;
        alignas(nlmsghdr) char buffer[16384];
        while (!done)
        {
            const ssize_t n = ::recv(diag_, buffer, sizeof buffer, 0);
            if (n < 0)
            {
                if (errno == EINTR)
                    continue;
                throw_errno("sock_diag recv");
            }
            auto size = static_cast<std::size_t>(n);
            for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, size);
                 header = NLMSG_NEXT(header, size))
            {
                if (header->nlmsg_seq != diag_sequence_)
                    continue;
                if (header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_ERROR)
                {
                    done = true; // an error (e.g. no IPv6) just means "not here"
                    break;
                }
                const auto* socket = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
                if (ntohs(socket->id.idiag_sport) == port)
                    found = true;
            }
        }
        if (found)
            return true;
    }
    return false;
}

} // namespace tfo::link
