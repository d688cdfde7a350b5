// tfo_link: an emulated wide-area link between two private network namespaces.
//
// The kernel here has no netem qdisc, so the delay is made in user space: each
// namespace gets a TUN device, and this process relays packets between the two
// TUN fds, holding each one for rtt/2 before delivering it.
//
// Linux only; C++20, standard library and POSIX/Linux APIs only.

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr const char* kClientAddr = "10.200.0.1";
constexpr const char* kServerAddr = "10.200.0.2";
constexpr const char* kClientAddr6 = "fd00:200::1";
constexpr const char* kServerAddr6 = "fd00:200::2";
constexpr const char* kTunName = "tfo0";
constexpr int kMtu = 1500;
// Packets held per direction are capped so a runaway sender cannot eat all
// memory; 64 MiB is far above any bandwidth-delay product we emulate.
constexpr size_t kMaxQueuedBytes = 64u << 20;
constexpr int64_t kControlTickNs = 10'000'000;  // readiness / timeout polling

bool g_verbose = false;

void vmsg(const char* fmt, va_list ap) {
    std::fputs("tfo_link: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
}

void msg(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void msg(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

void verbose(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void verbose(const char* fmt, ...) {
    if (!g_verbose) return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void die(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    std::exit(1);
}

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

timespec to_timespec(int64_t ns) {
    timespec ts{};
    ts.tv_sec = time_t(ns / 1'000'000'000);
    ts.tv_nsec = long(ns % 1'000'000'000);
    return ts;
}

// ---------------------------------------------------------------- options

struct Options {
    double rtt_ms = -1;
    std::string rtt_str;
    double loss = 0;
    int fastopen = 3;
    double timeout_s = 120;
    int ready_port = 0;
    double ready_timeout_s = 30;
    double grace_s = 1;
    bool seed_set = false;
    uint64_t seed = 0;
    std::string server_cmd;
    std::string client_cmd;
};

void usage(FILE* out) {
    std::fputs(
        "usage: tfo_link --rtt-ms MS --server CMD --client CMD [options]\n"
        "\n"
        "Runs CMD under /bin/sh -c in two private network namespaces joined by a\n"
        "TUN link with one-way delay MS/2.  client 10.200.0.1 (fd00:200::1),\n"
        "server 10.200.0.2 (fd00:200::2).  Exits with the client's status.\n"
        "\n"
        "  --rtt-ms MS           round-trip time to emulate (>= 0, fractional ok)\n"
        "  --loss P              independent per-packet loss probability 0..1 (0)\n"
        "  --seed N              seed for the loss generator (random)\n"
        "  --fastopen N          net.ipv4.tcp_fastopen in both namespaces (3)\n"
        "  --timeout-s S         bound for the whole run; exit 124 on expiry (120)\n"
        "  --ready-port PORT     start the client once the server listens on PORT\n"
        "  --ready-timeout-s S   bound for that wait (30)\n"
        "  --grace-s S           SIGTERM-to-SIGKILL grace when stopping (1)\n"
        "  --server CMD          server shell command\n"
        "  --client CMD          client shell command\n"
        "  --verbose             print link statistics to stderr\n"
        "\n"
        "Children see TFO_LINK_SERVER_ADDR, TFO_LINK_CLIENT_ADDR, TFO_LINK_RTT_MS\n"
        "(and TFO_LINK_SERVER_ADDR6, TFO_LINK_CLIENT_ADDR6).\n",
        out);
}

double parse_double(const std::string& name, const std::string& v, double lo, double hi) {
    char* end = nullptr;
    errno = 0;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(d) || d < lo || d > hi)
        die("invalid value for %s: '%s' (expected %g..%g)", name.c_str(), v.c_str(), lo, hi);
    return d;
}

long long parse_int(const std::string& name, const std::string& v, long long lo, long long hi) {
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
        die("invalid value for %s: '%s' (expected %lld..%lld)", name.c_str(), v.c_str(), lo, hi);
    return n;
}

Options parse_args(int argc, char** argv) {
    Options o;
    bool have_server = false, have_client = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::string val;
        bool inline_val = false;
        if (a.rfind("--", 0) == 0) {
            auto eq = a.find('=');
            if (eq != std::string::npos) {
                val = a.substr(eq + 1);
                a = a.substr(0, eq);
                inline_val = true;
            }
        }
        if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        }
        if (a == "-v" || a == "--verbose") {
            g_verbose = true;
            continue;
        }
        auto next = [&]() -> std::string {
            if (inline_val) return val;
            if (i + 1 >= argc) die("missing value for %s", a.c_str());
            return argv[++i];
        };
        if (a == "--rtt-ms") {
            o.rtt_str = next();
            o.rtt_ms = parse_double(a, o.rtt_str, 0, 600'000);
        } else if (a == "--loss") {
            o.loss = parse_double(a, next(), 0, 1);
        } else if (a == "--seed") {
            o.seed = uint64_t(parse_int(a, next(), 0, INT64_MAX));
            o.seed_set = true;
        } else if (a == "--fastopen") {
            o.fastopen = int(parse_int(a, next(), 0, 0xFFFF));
        } else if (a == "--timeout-s") {
            o.timeout_s = parse_double(a, next(), 0.001, 1e7);
        } else if (a == "--ready-port") {
            o.ready_port = int(parse_int(a, next(), 1, 65535));
        } else if (a == "--ready-timeout-s") {
            o.ready_timeout_s = parse_double(a, next(), 0.001, 1e7);
        } else if (a == "--grace-s") {
            o.grace_s = parse_double(a, next(), 0, 3600);
        } else if (a == "--server") {
            o.server_cmd = next();
            have_server = true;
        } else if (a == "--client") {
            o.client_cmd = next();
            have_client = true;
        } else {
            usage(stderr);
            die("unknown argument '%s'", argv[i]);
        }
    }
    if (o.rtt_ms < 0 || !have_server || !have_client) {
        usage(stderr);
        die("--rtt-ms, --server and --client are required");
    }
    return o;
}

// ---------------------------------------------------------------- namespace setup

int open_current_netns() {
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open /proc/thread-self/ns/net: %s", std::strerror(errno));
    return fd;
}

void enter_netns(int fd, const char* what) {
    if (setns(fd, CLONE_NEWNET) != 0) die("setns(%s): %s", what, std::strerror(errno));
}

bool write_file(const std::string& path, const std::string& value) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, value.data(), value.size()) == ssize_t(value.size());
    close(fd);
    return ok;
}

std::string read_file(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return {};
    std::string s(buf, size_t(n));
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

void ifreq_name(ifreq& ifr, const char* name) {
    std::memset(&ifr, 0, sizeof ifr);
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
}

void link_up(int sock, const char* name) {
    ifreq ifr;
    ifreq_name(ifr, name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) die("SIOCGIFFLAGS %s: %s", name, std::strerror(errno));
    ifr.ifr_flags = short(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) != 0) die("SIOCSIFFLAGS %s: %s", name, std::strerror(errno));
}

// Adds an address over rtnetlink (ioctl cannot set a peer for IPv6 nor skip DAD).
bool nl_add_addr(int family, int ifindex, const void* local, const void* peer, int prefix,
                 std::string& err) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        err = std::string("netlink socket: ") + std::strerror(errno);
        return false;
    }
    const size_t alen = family == AF_INET ? 4 : 16;
    struct {
        nlmsghdr nh;
        ifaddrmsg ifa;
        char attrs[128];
    } req{};
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
    req.nh.nlmsg_type = RTM_NEWADDR;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    req.nh.nlmsg_seq = 1;
    req.ifa.ifa_family = uint8_t(family);
    req.ifa.ifa_prefixlen = uint8_t(prefix);
    // No duplicate address detection: the address must be usable immediately.
    req.ifa.ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
    req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    req.ifa.ifa_index = unsigned(ifindex);
    auto add_attr = [&](unsigned short type, const void* data, size_t len) {
        auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) +
                                              NLMSG_ALIGN(req.nh.nlmsg_len));
        rta->rta_type = type;
        rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
        std::memcpy(RTA_DATA(rta), data, len);
        req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
    };
    add_attr(IFA_LOCAL, local, alen);
    add_attr(IFA_ADDRESS, peer ? peer : local, alen);

    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    bool ok = false;
    if (sendto(fd, &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        err = std::string("netlink send: ") + std::strerror(errno);
    } else {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        auto* nh = reinterpret_cast<nlmsghdr*>(buf);
        if (n < 0) {
            err = std::string("netlink recv: ") + std::strerror(errno);
        } else if (!NLMSG_OK(nh, size_t(n)) || nh->nlmsg_type != NLMSG_ERROR) {
            err = "netlink: unexpected reply";
        } else {
            int e = -static_cast<nlmsgerr*>(NLMSG_DATA(nh))->error;
            if (e == 0) ok = true;
            else err = std::string("RTM_NEWADDR: ") + std::strerror(e);
        }
    }
    close(fd);
    return ok;
}

struct Side {
    const char* role = "";
    const char* addr4 = "";
    const char* peer4 = "";
    const char* addr6 = "";
    int ns_fd = -1;
    int tun_fd = -1;
    int diag_fd = -1;  // server only: sock_diag socket bound to its namespace
    bool have_v6 = false;
};

// Builds one namespace.  Everything namespace-bound (sysctl files, the TUN fd,
// sockets) is opened while inside it; we return to orig_ns afterwards.
void setup_side(Side& s, const Options& o, int orig_ns, bool want_diag) {
    if (unshare(CLONE_NEWNET) != 0)
        die("unshare(CLONE_NEWNET): %s (needs root / CAP_SYS_ADMIN)", std::strerror(errno));
    s.ns_fd = open_current_netns();

    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) die("socket: %s", std::strerror(errno));
    link_up(sock, "lo");

    const std::string tfo = std::to_string(o.fastopen);
    if (!write_file("/proc/sys/net/ipv4/tcp_fastopen", tfo) ||
        read_file("/proc/sys/net/ipv4/tcp_fastopen") != tfo)
        die("cannot set net.ipv4.tcp_fastopen=%s in the %s namespace", tfo.c_str(), s.role);
    // Older kernels disable TFO after suspected middlebox drops; with --loss
    // that would silently turn TFO off mid-benchmark.  Absent on some kernels.
    write_file("/proc/sys/net/ipv4/tcp_fastopen_blackhole_timeout_sec", "0");

    s.tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (s.tun_fd < 0) die("open /dev/net/tun: %s", std::strerror(errno));
    ifreq ifr;
    ifreq_name(ifr, kTunName);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(s.tun_fd, TUNSETIFF, &ifr) != 0) die("TUNSETIFF: %s", std::strerror(errno));

    ifreq_name(ifr, kTunName);
    if (ioctl(sock, SIOCGIFINDEX, &ifr) != 0) die("SIOCGIFINDEX: %s", std::strerror(errno));
    const int ifindex = ifr.ifr_ifindex;
    ifreq_name(ifr, kTunName);
    ifr.ifr_mtu = kMtu;
    if (ioctl(sock, SIOCSIFMTU, &ifr) != 0) die("SIOCSIFMTU: %s", std::strerror(errno));
    ifreq_name(ifr, kTunName);
    ifr.ifr_qlen = 1000;
    if (ioctl(sock, SIOCSIFTXQLEN, &ifr) != 0) die("SIOCSIFTXQLEN: %s", std::strerror(errno));
    // No link-local address: keeps router solicitations / MLD chatter off the link.
    write_file(std::string("/proc/sys/net/ipv6/conf/") + kTunName + "/addr_gen_mode", "1");
    link_up(sock, kTunName);

    in_addr local4{}, peer4{};
    inet_pton(AF_INET, s.addr4, &local4);
    inet_pton(AF_INET, s.peer4, &peer4);
    std::string err;
    if (!nl_add_addr(AF_INET, ifindex, &local4, &peer4, 32, err))
        die("adding %s peer %s in the %s namespace: %s", s.addr4, s.peer4, s.role, err.c_str());
    in6_addr local6{};
    inet_pton(AF_INET6, s.addr6, &local6);
    // A TUN device has no neighbour discovery, so an on-link /64 just works.
    s.have_v6 = nl_add_addr(AF_INET6, ifindex, &local6, nullptr, 64, err);
    if (!s.have_v6) verbose("IPv6 unavailable in the %s namespace: %s", s.role, err.c_str());

    if (want_diag) {
        s.diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (s.diag_fd < 0) die("sock_diag socket: %s", std::strerror(errno));
    }
    close(sock);
    enter_netns(orig_ns, "original namespace");
}

// True if a TCP socket in the diag socket's namespace listens on port.
bool tcp_listening(int diag_fd, int port) {
    static uint32_t seq = 0;
    for (int family : {AF_INET, AF_INET6}) {
        struct {
            nlmsghdr nh;
            inet_diag_req_v2 r;
        } req{};
        req.nh.nlmsg_len = sizeof req;
        req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.nh.nlmsg_seq = ++seq;
        req.r.sdiag_family = uint8_t(family);
        req.r.sdiag_protocol = IPPROTO_TCP;
        req.r.idiag_states = 1u << 10;  // TCP_LISTEN
        sockaddr_nl sa{};
        sa.nl_family = AF_NETLINK;
        if (sendto(diag_fd, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
            die("sock_diag send: %s", std::strerror(errno));
        bool found = false, done = false;
        alignas(nlmsghdr) char buf[16384];
        while (!done) {
            ssize_t n = recv(diag_fd, buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("sock_diag recv: %s", std::strerror(errno));
            }
            size_t len = size_t(n);
            for (auto* nh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nh, len);
                 nh = NLMSG_NEXT(nh, len)) {
                if (nh->nlmsg_seq != seq) continue;
                if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
                    done = true;  // an error (e.g. no IPv6) just means "not here"
                    break;
                }
                auto* m = static_cast<inet_diag_msg*>(NLMSG_DATA(nh));
                if (ntohs(m->id.idiag_sport) == port) found = true;
            }
        }
        if (found) return true;
    }
    return false;
}

// ---------------------------------------------------------------- children

// Each command runs under a tiny init that is PID 1 of its own PID namespace.
// When that init dies (command exit, our SIGKILL, or our own death via
// PDEATHSIG) the kernel kills every process left in the namespace, so nothing
// a benchmark forks can outlive the run or pin the network namespace.
struct ChildSpec {
    const char* cmd;
    int ns_fd;
    bool stdin_null;
    int lifeline_rd;
    int lifeline_wr;
    const std::vector<int>* close_fds;
};

sigset_t relay_sigset() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&s, sig);
    return s;
}

int child_init_main(void* arg) {
    const auto* spec = static_cast<const ChildSpec*>(arg);
    // Only the relay may hold the lifeline's write end, so that its death
    // shows as HUP here.
    close(spec->lifeline_wr);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // If the relay died before prctl took effect, the lifeline shows HUP.
    pollfd pfd{spec->lifeline_rd, POLLIN, 0};
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLHUP)) _exit(125);
    if (setns(spec->ns_fd, CLONE_NEWNET) != 0) {
        std::fprintf(stderr, "tfo_link: setns in child: %s\n", std::strerror(errno));
        _exit(126);
    }
    for (int fd : *spec->close_fds) close(fd);
    close(spec->lifeline_rd);

    // Signals stay blocked (inherited from the relay); we collect them below.
    const sigset_t set = relay_sigset();
    pid_t cmd = fork();
    if (cmd < 0) {
        std::fprintf(stderr, "tfo_link: fork: %s\n", std::strerror(errno));
        _exit(126);
    }
    if (cmd == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        if (spec->stdin_null) {
            int fd = open("/dev/null", O_RDONLY);
            if (fd >= 0 && fd != 0) {
                dup2(fd, 0);
                close(fd);
            }
        }
        execl("/bin/sh", "sh", "-c", spec->cmd, static_cast<char*>(nullptr));
        std::fprintf(stderr, "tfo_link: exec /bin/sh: %s\n", std::strerror(errno));
        _exit(127);
    }
    setpgid(cmd, cmd);  // also done by the child; whoever runs first wins
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            kill(-cmd, sig);  // forward to the command's process group
            continue;
        }
        int st = 0;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            if (p != cmd) continue;  // reaped an orphan
            if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
            _exit(128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
        }
    }
}

pid_t spawn_child(const ChildSpec& spec) {
    constexpr size_t kStack = 256 * 1024;
    void* stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) die("mmap: %s", std::strerror(errno));
    // No CLONE_VM: the child gets its own copy of memory, like fork().
    pid_t pid = clone(child_init_main, static_cast<char*>(stack) + kStack, CLONE_NEWPID | SIGCHLD,
                      const_cast<ChildSpec*>(&spec));
    int e = errno;
    munmap(stack, kStack);
    if (pid < 0) die("clone(CLONE_NEWPID): %s", std::strerror(e));
    return pid;
}

int decode_status(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}

// ---------------------------------------------------------------- relay

struct Packet {
    int64_t due_ns;
    std::vector<uint8_t> data;
};

struct Direction {
    const char* name;
    int in_fd;
    int out_fd;
    std::deque<Packet> queue;
    size_t queued_bytes = 0;
    uint64_t received = 0, delivered = 0, lost = 0, overflow = 0, write_errors = 0;
    uint64_t bytes = 0;
    int64_t late_sum_ns = 0, late_abs_sum_ns = 0;
    int64_t late_max_ns = INT64_MIN, late_min_ns = INT64_MAX;
};

class Relay {
public:
    Relay(const Options& o, Direction* dirs)
        : delay_ns_(std::llround(o.rtt_ms * 1e6 / 2)), loss_(o.loss), dirs_(dirs) {
        std::random_device rd;
        rng_.seed(o.seed_set ? o.seed : (uint64_t(rd()) << 32 | rd()));
        scratch_.resize(65536);
    }

    // Reads what is pending on d.in_fd (up to a batch) and queues it.
    void read_side(Direction& d) {
        // Bounded batch so one busy direction cannot starve the other.
        for (int i = 0; i < 64; ++i) {
            ssize_t n = read(d.in_fd, scratch_.data(), scratch_.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) return;
                die("read from %s TUN: %s", d.name, std::strerror(errno));
            }
            const int64_t t = now_ns();
            ++d.received;
            if (loss_ > 0 && uni_(rng_) < loss_) {
                ++d.lost;
                continue;
            }
            if (d.queued_bytes + size_t(n) > kMaxQueuedBytes) {
                ++d.overflow;
                continue;
            }
            Packet p{t + delay_ns_, take_buffer()};
            p.data.assign(scratch_.begin(), scratch_.begin() + n);
            d.queued_bytes += size_t(n);
            d.queue.push_back(std::move(p));
        }
    }

    // Delivers every packet whose time has come; returns the time to arm the
    // timer for the next one, or -1 if nothing is queued.  A packet counts as
    // due once its deadline minus the expected timer wake-up latency has
    // passed: waking that much early makes the mean delivery error ~0.
    int64_t deliver_due() {
        int64_t next = -1;
        for (int k = 0; k < 2; ++k) {
            Direction& d = dirs_[k];
            while (!d.queue.empty()) {
                const int64_t t = now_ns();
                Packet& p = d.queue.front();
                // Never more than half the delay early, so tiny RTTs stay sane.
                const int64_t at = p.due_ns - std::min(wake_est_ns_, delay_ns_ / 2);
                if (at > t) {
                    if (next < 0 || at < next) next = at;
                    break;
                }
                ssize_t w = write(d.out_fd, p.data.data(), p.data.size());
                if (w == ssize_t(p.data.size())) {
                    ++d.delivered;
                    d.bytes += p.data.size();
                    const int64_t late = t - p.due_ns;
                    d.late_sum_ns += late;
                    d.late_abs_sum_ns += late < 0 ? -late : late;
                    d.late_max_ns = std::max(d.late_max_ns, late);
                    d.late_min_ns = std::min(d.late_min_ns, late);
                } else {
                    ++d.write_errors;  // e.g. malformed packet; a real link drops too
                }
                d.queued_bytes -= p.data.size();
                free_.push_back(std::move(p.data));
                d.queue.pop_front();
            }
        }
        return next;
    }

    // Feeds one observed timer wake-up latency (fire time minus armed time).
    // In a VM an idle vCPU can take 50..300 us to wake; an EWMA tracks that.
    void note_wake_latency(int64_t ns) {
        ns = std::clamp<int64_t>(ns, 0, 1'000'000);  // ignore preemption outliers
        wake_est_ns_ += (ns - wake_est_ns_) / 8;
    }

    int64_t wake_estimate_ns() const { return wake_est_ns_; }

private:
    std::vector<uint8_t> take_buffer() {
        if (free_.empty()) return {};
        std::vector<uint8_t> b = std::move(free_.back());
        free_.pop_back();
        return b;
    }

    int64_t delay_ns_;
    double loss_;
    Direction* dirs_;
    std::mt19937_64 rng_;
    std::uniform_real_distribution<double> uni_{0.0, 1.0};
    std::vector<uint8_t> scratch_;
    std::vector<std::vector<uint8_t>> free_;
    int64_t wake_est_ns_ = 50'000;
};

void arm_timer(int tfd, int64_t at_ns, bool periodic = false) {
    itimerspec its{};
    if (at_ns > 0) {
        its.it_value = to_timespec(at_ns);
        if (periodic) its.it_interval = to_timespec(kControlTickNs);
    }
    if (timerfd_settime(tfd, at_ns > 0 ? TFD_TIMER_ABSTIME : 0, &its, nullptr) != 0)
        die("timerfd_settime: %s", std::strerror(errno));
}

void drain(int fd) {
    uint64_t v;
    while (read(fd, &v, sizeof v) > 0) {
    }
}

void epoll_add(int ep, int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl: %s", std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse_args(argc, argv);
    const int64_t t_start = now_ns();

    // ---- namespaces and TUN devices
    const int orig_ns = open_current_netns();
    Side client, server;
    client.role = "client";
    client.addr4 = kClientAddr;
    client.peer4 = kServerAddr;
    client.addr6 = kClientAddr6;
    server.role = "server";
    server.addr4 = kServerAddr;
    server.peer4 = kClientAddr;
    server.addr6 = kServerAddr6;
    setup_side(client, opt, orig_ns, false);
    setup_side(server, opt, orig_ns, opt.ready_port != 0);

    // ---- event sources
    const sigset_t sigs = relay_sigset();
    if (sigprocmask(SIG_BLOCK, &sigs, nullptr) != 0) die("sigprocmask: %s", std::strerror(errno));
    const int sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    const int deliver_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    const int control_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (sig_fd < 0 || deliver_tfd < 0 || control_tfd < 0 || ep < 0)
        die("event setup: %s", std::strerror(errno));
    for (int fd : {client.tun_fd, server.tun_fd, sig_fd, deliver_tfd, control_tfd}) epoll_add(ep, fd);
    arm_timer(control_tfd, now_ns() + kControlTickNs, true);

    int lifeline[2];
    if (pipe2(lifeline, O_CLOEXEC) != 0) die("pipe2: %s", std::strerror(errno));

    Direction dirs[2] = {
        {"client->server", client.tun_fd, server.tun_fd, {}},
        {"server->client", server.tun_fd, client.tun_fd, {}},
    };
    Relay relay(opt, dirs);

    // ---- children
    setenv("TFO_LINK_SERVER_ADDR", kServerAddr, 1);
    setenv("TFO_LINK_CLIENT_ADDR", kClientAddr, 1);
    setenv("TFO_LINK_RTT_MS", opt.rtt_str.c_str(), 1);
    if (client.have_v6 && server.have_v6) {
        setenv("TFO_LINK_SERVER_ADDR6", kServerAddr6, 1);
        setenv("TFO_LINK_CLIENT_ADDR6", kClientAddr6, 1);
    }
    const std::vector<int> relay_fds = {orig_ns,     client.ns_fd, server.ns_fd, client.tun_fd,
                                        server.tun_fd, sig_fd,     deliver_tfd,  control_tfd,
                                        ep,            lifeline[1]};
    std::vector<int> close_fds = relay_fds;
    if (server.diag_fd >= 0) close_fds.push_back(server.diag_fd);
    const ChildSpec server_spec{opt.server_cmd.c_str(), server.ns_fd, true, lifeline[0], lifeline[1],
                                &close_fds};
    const ChildSpec client_spec{opt.client_cmd.c_str(), client.ns_fd, false, lifeline[0], lifeline[1],
                                &close_fds};

    enum class Phase { WaitReady, Running, Stopping } phase;
    pid_t server_pid = spawn_child(server_spec);
    pid_t client_pid = 0;
    int exit_code = 1;
    const int64_t deadline = t_start + std::llround(opt.timeout_s * 1e9);
    const int64_t ready_deadline = now_ns() + std::llround(opt.ready_timeout_s * 1e9);
    int64_t kill_at = 0;
    bool killed = false;

    if (opt.ready_port == 0) {
        client_pid = spawn_child(client_spec);
        phase = Phase::Running;
    } else {
        phase = Phase::WaitReady;
    }

    auto signal_children = [&](int sig) {
        if (server_pid > 0) kill(server_pid, sig);
        if (client_pid > 0) kill(client_pid, sig);
    };
    auto begin_stop = [&](int code) {
        if (phase == Phase::Stopping) return;
        phase = Phase::Stopping;
        exit_code = code;
        signal_children(SIGTERM);
        kill_at = now_ns() + std::llround(opt.grace_s * 1e9);
    };

    int64_t armed = -1;
    epoll_event evs[8];
    while (server_pid > 0 || client_pid > 0) {
        int n = epoll_wait(ep, evs, 8, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait: %s", std::strerror(errno));
        }
        const int64_t woke = now_ns();
        bool tick = false;
        for (int i = 0; i < n; ++i) {
            const int fd = evs[i].data.fd;
            if (fd == client.tun_fd) {
                relay.read_side(dirs[0]);
            } else if (fd == server.tun_fd) {
                relay.read_side(dirs[1]);
            } else if (fd == deliver_tfd) {
                drain(deliver_tfd);
                if (armed > 0) relay.note_wake_latency(woke - armed);
                armed = -1;
            } else if (fd == control_tfd) {
                drain(control_tfd);
                tick = true;
            } else if (fd == sig_fd) {
                signalfd_siginfo si;
                while (read(sig_fd, &si, sizeof si) == ssize_t(sizeof si)) {
                    const int sig = int(si.ssi_signo);
                    if (sig == SIGCHLD) continue;  // reaped below
                    if (phase == Phase::Stopping) {
                        signal_children(SIGKILL);  // asked twice: no more grace
                        killed = true;
                    } else {
                        msg("received %s, stopping", strsignal(sig));
                        begin_stop(128 + sig);
                    }
                }
                // Reap whatever has exited (SIGCHLD may be coalesced).
                int st = 0;
                pid_t p;
                while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
                    if (p == client_pid) {
                        client_pid = 0;
                        verbose("client exited with status %d", decode_status(st));
                        begin_stop(decode_status(st));
                    } else if (p == server_pid) {
                        server_pid = 0;
                        if (phase == Phase::WaitReady) {
                            msg("server exited with status %d before listening on port %d",
                                decode_status(st), opt.ready_port);
                            begin_stop(1);
                        } else if (phase == Phase::Running) {
                            verbose("server exited with status %d", decode_status(st));
                        }
                    }
                }
            }
        }

        if (tick) {
            const int64_t t = now_ns();
            if (phase == Phase::WaitReady) {
                if (tcp_listening(server.diag_fd, opt.ready_port)) {
                    verbose("server listening on port %d after %.1f ms", opt.ready_port,
                            double(t - t_start) / 1e6);
                    client_pid = spawn_child(client_spec);
                    phase = Phase::Running;
                } else if (t >= ready_deadline) {
                    msg("server did not listen on TCP port %d within %g s", opt.ready_port,
                        opt.ready_timeout_s);
                    begin_stop(1);
                }
            }
            if (phase != Phase::Stopping && t >= deadline) {
                msg("timeout: run exceeded %g s, killing server and client", opt.timeout_s);
                begin_stop(124);
            }
            if (phase == Phase::Stopping && !killed && t >= kill_at) {
                signal_children(SIGKILL);
                killed = true;
            }
        }

        const int64_t next = relay.deliver_due();
        if (next > 0 && next != armed) {
            arm_timer(deliver_tfd, next);
            armed = next;
        }
    }

    if (g_verbose) {
        for (const Direction& d : dirs) {
            const double n = d.delivered ? double(d.delivered) : 1.0;
            msg("%s: %llu packets in, %llu delivered (%llu bytes), %llu lost, %llu overflow, "
                "%llu write errors",
                d.name, (unsigned long long)d.received, (unsigned long long)d.delivered,
                (unsigned long long)d.bytes, (unsigned long long)d.lost,
                (unsigned long long)d.overflow, (unsigned long long)d.write_errors);
            if (d.delivered)
                msg("%s: delivery error vs deadline (us): mean %+.1f, mean abs %.1f, "
                    "min %+.1f, max %+.1f",
                    d.name, double(d.late_sum_ns) / n / 1e3, double(d.late_abs_sum_ns) / n / 1e3,
                    double(d.late_min_ns) / 1e3, double(d.late_max_ns) / 1e3);
        }
        msg("timer wake-up latency estimate at exit: %.1f us",
            double(relay.wake_estimate_ns()) / 1e3);
    }
    // Closing the TUN and namespace fds destroys both namespaces: no process
    // is left in them (each init's death killed its whole PID namespace).
    for (int fd : relay_fds) close(fd);
    if (server.diag_fd >= 0) close(server.diag_fd);
    close(lifeline[0]);
    return exit_code;
}
