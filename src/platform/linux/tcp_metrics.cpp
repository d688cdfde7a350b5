//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The platform seam on Linux: the kernel's per-destination record, read from
// the tcp_metrics generic netlink family (what `ip tcp_metrics show` prints):
// TCP_METRICS_CMD_GET for one destination address, or for every entry (a
// dump), in the calling thread's network namespace.
//

#include <tfo/detail/platform.hpp>
#include <tfo/error.hpp>
#include <tfo/path_memory.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tcp_metrics.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace tfo::detail::platform {

namespace {

boost::system::error_code last_error()
{
    return {errno, boost::system::system_category()};
}

// A netlink socket closed on every path.
struct netlink_socket
{
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    ~netlink_socket()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

// One request: a netlink header, a generic netlink header, attributes.
class request
{
public:
    request(std::uint16_t family, std::uint8_t command, std::uint8_t version)
    {
        auto* n = header();
        n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
        n->nlmsg_type = family;
        n->nlmsg_flags = NLM_F_REQUEST;
        n->nlmsg_seq = 1;
        auto* g = static_cast<genlmsghdr*>(NLMSG_DATA(n));
        g->cmd = command;
        g->version = version;
    }

    void add(std::uint16_t type, const void* data, std::size_t length)
    {
        auto* n = header();
        auto* a = reinterpret_cast<nlattr*>(buffer_ + NLMSG_ALIGN(n->nlmsg_len));
        a->nla_type = type;
        a->nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + length);
        std::memcpy(reinterpret_cast<char*>(a) + NLA_HDRLEN, data, length);
        n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + NLA_ALIGN(a->nla_len);
    }

    void set_flags(std::uint16_t flags) { header()->nlmsg_flags = flags; }

    // Sends the request; false with `ec` set when it could not.
    bool send(int fd, boost::system::error_code& ec)
    {
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        if (::sendto(fd, buffer_, header()->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        {
            ec = last_error();
            return false;
        }
        return true;
    }

    // Sends the request and receives the one answer into `reply`; returns
    // the answer's length, or 0 with `ec` set.
    std::size_t exchange(int fd, char* reply, std::size_t size, boost::system::error_code& ec)
    {
        if (!send(fd, ec))
            return 0;
        ssize_t n;
        do
            n = ::recv(fd, reply, size, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
        {
            ec = last_error();
            return 0;
        }
        auto* h = reinterpret_cast<nlmsghdr*>(reply);
        if (!NLMSG_OK(h, static_cast<unsigned>(n)))
        {
            ec = error::malformed_proc_file;
            return 0;
        }
        if (h->nlmsg_type == NLMSG_ERROR)
        {
            const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
            ec.assign(e->error < 0 ? -e->error : EIO, boost::system::system_category());
            return 0;
        }
        return static_cast<std::size_t>(n);
    }

private:
    nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buffer_); }

    alignas(nlmsghdr) char buffer_[128]{};
};

// Calls `f(type, data, length)` for each attribute of a generic netlink answer.
template <typename F>
void for_each_attribute(const char* reply, std::size_t length, F f)
{
    const auto* h = reinterpret_cast<const nlmsghdr*>(reply);
    const std::size_t end = std::min<std::size_t>(length, h->nlmsg_len);
    std::size_t at = NLMSG_HDRLEN + GENL_HDRLEN;
    while (at + NLA_HDRLEN <= end)
    {
        const auto* a = reinterpret_cast<const nlattr*>(reply + at);
        if (a->nla_len < NLA_HDRLEN || at + a->nla_len > end)
            break;
        f(a->nla_type & NLA_TYPE_MASK, reply + at + NLA_HDRLEN, std::size_t{a->nla_len} - NLA_HDRLEN);
        at += NLA_ALIGN(a->nla_len);
    }
}

template <typename T>
T read_as(const char* data, std::size_t length)
{
    T v{};
    std::memcpy(&v, data, std::min(length, sizeof v));
    return v;
}

// Generic netlink family ids are global (not per namespace): resolved once.
std::atomic<int> tcp_metrics_family{-1};

int resolve_family(int fd, boost::system::error_code& ec)
{
    if (const int known = tcp_metrics_family.load(std::memory_order_relaxed); known >= 0)
        return known;
    request r(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
    r.add(CTRL_ATTR_FAMILY_NAME, TCP_METRICS_GENL_NAME, sizeof TCP_METRICS_GENL_NAME);
    alignas(nlmsghdr) char reply[4096];
    const std::size_t n = r.exchange(fd, reply, sizeof reply, ec);
    if (n == 0)
    {
        if (ec == boost::system::errc::no_such_file_or_directory)
            ec = error::not_supported; // no tcp_metrics family in this kernel
        return -1;
    }
    int family = -1;
    for_each_attribute(reply, n, [&](unsigned type, const char* data, std::size_t length) {
        if (type == CTRL_ATTR_FAMILY_ID)
            family = read_as<std::uint16_t>(data, length);
    });
    if (family < 0)
        ec = error::not_supported;
    else
        tcp_metrics_family.store(family, std::memory_order_relaxed);
    return family;
}

// Reads one tcp_metrics answer (a reply to a request for one address, or a
// message of a dump) into `k`, and its destination address into `address`
// (4 or 16 bytes; `address_length` 0 when the message names none).
void parse_record(const char* message, std::size_t length, kernel_path_record& k, unsigned char* address,
                  std::size_t& address_length)
{
    k.found = true;
    address_length = 0;
    for_each_attribute(message, length, [&](unsigned type, const char* data, std::size_t len) {
        switch (type)
        {
        case TCP_METRICS_ATTR_ADDR_IPV4:
        case TCP_METRICS_ATTR_ADDR_IPV6:
            if (len == 4 || len == 16)
            {
                std::memcpy(address, data, len);
                address_length = len;
            }
            break;
        case TCP_METRICS_ATTR_AGE:
            k.age = std::chrono::milliseconds(read_as<std::uint64_t>(data, len));
            break;
        case TCP_METRICS_ATTR_FOPEN_MSS:
            k.fo_mss = read_as<std::uint16_t>(data, len);
            break;
        case TCP_METRICS_ATTR_FOPEN_SYN_DROPS:
            k.syn_drops = read_as<std::uint16_t>(data, len);
            break;
        case TCP_METRICS_ATTR_FOPEN_SYN_DROP_TS:
            k.syn_drop_age = std::chrono::milliseconds(read_as<std::uint64_t>(data, len));
            break;
        case TCP_METRICS_ATTR_FOPEN_COOKIE:
            k.cookie_length = len;
            break;
        case TCP_METRICS_ATTR_VALS:
            // Nested: the metric of index i is attribute i + 1.
            for (std::size_t at = 0; at + NLA_HDRLEN <= len;)
            {
                const auto* a = reinterpret_cast<const nlattr*>(data + at);
                if (a->nla_len < NLA_HDRLEN || at + a->nla_len > len)
                    break;
                // The kernel saves the smoothed RTT as it keeps it, in
                // microseconds scaled by 8 (srtt_us); `ip tcp_metrics` shifts
                // it back too. Unscaled, a 20 ms path read as 160 ms.
                if ((a->nla_type & NLA_TYPE_MASK) == TCP_METRIC_RTT_US + 1)
                    k.rtt = std::chrono::microseconds(
                        read_as<std::uint32_t>(data + at + NLA_HDRLEN, std::size_t{a->nla_len} - NLA_HDRLEN) >> 3);
                at += NLA_ALIGN(a->nla_len);
            }
            break;
        default:
            break;
        }
    });
}

// A netlink socket on which the tcp_metrics family is known.
struct tcp_metrics_socket
{
    netlink_socket s;
    int family = -1;

    explicit tcp_metrics_socket(boost::system::error_code& ec)
    {
        ec.clear();
        if (s.fd < 0)
            ec = last_error();
        else
            family = resolve_family(s.fd, ec);
    }
};

} // namespace

kernel_path_record read_kernel_path_record(const unsigned char* address, std::size_t length,
                                           boost::system::error_code& ec)
{
    kernel_path_record k;
    tcp_metrics_socket s(ec);
    if (ec)
        return k;
    request r(static_cast<std::uint16_t>(s.family), TCP_METRICS_CMD_GET, TCP_METRICS_GENL_VERSION);
    r.add(length == 4 ? TCP_METRICS_ATTR_ADDR_IPV4 : TCP_METRICS_ATTR_ADDR_IPV6, address, length);
    alignas(nlmsghdr) char reply[4096];
    const std::size_t n = r.exchange(s.s.fd, reply, sizeof reply, ec);
    if (n == 0)
    {
        if (ec == boost::system::errc::no_such_process) // ESRCH: no entry for this address
            ec.clear();
        return k;
    }
    unsigned char named[16];
    std::size_t named_length = 0;
    parse_record(reply, n, k, named, named_length);
    return k;
}

void dump_kernel_path_records(const kernel_path_visitor& visit, boost::system::error_code& ec)
{
    tcp_metrics_socket s(ec);
    if (ec)
        return;
    request r(static_cast<std::uint16_t>(s.family), TCP_METRICS_CMD_GET, TCP_METRICS_GENL_VERSION);
    r.set_flags(NLM_F_REQUEST | NLM_F_DUMP);
    if (!r.send(s.s.fd, ec))
        return;
    // The kernel fills each read up to the buffer's size (at most 32 KiB per
    // read for a dump), so a large buffer means few system calls.
    std::vector<char> buffer(32768);
    for (;;)
    {
        ssize_t n;
        do
            n = ::recv(s.s.fd, buffer.data(), buffer.size(), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
        {
            ec = last_error();
            return;
        }
        std::size_t left = static_cast<std::size_t>(n);
        for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
        {
            if (h->nlmsg_type == NLMSG_DONE)
                return;
            if (h->nlmsg_type == NLMSG_ERROR)
            {
                const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
                ec.assign(e->error < 0 ? -e->error : EIO, boost::system::system_category());
                return;
            }
            kernel_path_record k;
            unsigned char address[16];
            std::size_t address_length = 0;
            parse_record(reinterpret_cast<const char*>(h), h->nlmsg_len, k, address, address_length);
            if (address_length != 0)
                visit(address, address_length, k);
        }
        if (n == 0)
        {
            ec = error::malformed_proc_file; // the socket ended before NLMSG_DONE
            return;
        }
    }
}

} // namespace tfo::detail::platform
