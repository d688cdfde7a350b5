//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// destinations: what talking to N distinct destinations costs a client, for
// N = 100, 1,000, 10,000, 100,000 (issue 20). One listener on 0.0.0.0 of the
// loopback of a private network namespace takes connections to every address
// of 127/8; destination i is 127.1.0.1 + i, same port. Every pass visits all
// N destinations in the same order (round robin), one request/response
// connection at a time: connect with a 100-byte request, read the 100-byte
// reply and the server's close, close. Variants:
//
//   tfo           tfo::async_fastopen_connect, the default tfo::path_memory
//   tfo-nomemory  the same with the path memory's `enabled = false`
//   asio          socket.async_connect + asio::async_write
//
// Each variant runs in a fresh process (this program, `--only VARIANT`) and
// so in a fresh namespace: the path memory and the kernel's Fast Open cookies
// start empty every time. The kernel's tcp_metrics entries (where it keeps
// the cookies) belong to a namespace and go with it, so nothing needs
// flushing between variants; but their hash table is one for the whole
// machine, with at most a few entries per bucket, so that beyond some tens of
// thousands of destinations the kernel itself forgets cookies (the rows say
// how many SYNs had their data acknowledged). The server closes first, so
// TIME_WAIT stays on its side and the client's ports are free at once.
//
//   destinations [--destinations 100,1000,10000,100000] [--passes 3]
//                [--min-connections 6000] [--trace-sample 1000]
//                [--raw FILE] [--no-strace] [--quick]
//
// prints summary rows on stdout and, with --raw, every figure of every pass
// (`--quick`: N = 100 and 5,000, a short smoke run). Per connection and per
// pass (the first is first contact, the last the steady state):
// - time: wall clock of the pass / N, in runs without strace. Small N are run
//   in several rounds (fresh processes, the variants' order rotating) until
//   each variant made --min-connections, and (but with --quick) at least 3
//   at every N;
//   ratios are taken within a round and their median reported;
// - system calls: exact counts, from a separate run of each variant, client
//   and in-process server together. Under `strace -f` a connection costs some
//   20 times more, so the process attaches strace to itself for the first
//   --trace-sample destinations of each pass only, and lets it go for the
//   rest, which run as in the timed runs. Calls are counted between markers
//   (a failing write(-1, "tfo-bench pass-begin 1")) by this program reading
//   the trace from a pipe (`--count-trace`); netlink calls (socket(AF_NETLINK),
//   and any call on such a descriptor, also one opened before strace
//   attached) on their own;
// - heap allocations: replaced operator new, the client thread only;
// - the path memory's memory: live heap bytes after the passes minus before
//   (all threads; nothing else grows with N), per destination.
//

#include "bench_support.hpp"
#include "heap_counting.hpp"
#include "loopback_server.hpp"

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/path_memory.hpp>
#include <tfo/system.hpp>

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t message_size = 100;

enum class variant
{
    tfo,
    tfo_nomemory,
    asio
};

constexpr std::array<variant, 3> all_variants{variant::tfo, variant::tfo_nomemory, variant::asio};

const char* name(variant v)
{
    constexpr std::array<const char*, 3> names{"tfo", "tfo-nomemory", "asio"};
    return names[static_cast<std::size_t>(v)];
}

variant variant_named(const std::string& text)
{
    for (variant v : all_variants)
        if (text == name(v))
            return v;
    throw std::invalid_argument("no variant " + text);
}

// A system call that does nothing (EBADF) and shows in the trace.
void marker(const char* what, int pass)
{
    char text[64];
    const int n = std::snprintf(text, sizeof text, "tfo-bench %s %d", what, pass);
    [[maybe_unused]] auto ignored = ::write(-1, text, static_cast<std::size_t>(n));
}

// ------------------------------------------------------------ one variant

// Runs connections one after another, one to each endpoint of a list.
class client
{
public:
    client(asio::io_context& io, variant v) : io_(io), socket_(io), variant_(v) { request_.fill('q'); }

    // Returns the connections that failed.
    std::uint64_t run(std::span<const tcp::endpoint> destinations)
    {
        destinations_ = destinations;
        next_ = 0;
        failed_ = 0;
        start();
        io_.restart();
        io_.run();
        return failed_;
    }

private:
    void start()
    {
        if (next_ == destinations_.size())
            return;
        const tcp::endpoint& to = destinations_[next_++];
        if (variant_ == variant::asio)
            socket_.async_connect(to, [this](error_code ec) {
                if (ec)
                    return fail();
                asio::async_write(socket_, asio::buffer(request_), [this](error_code ec, std::size_t) { sent(ec); });
            });
        else
            tfo::async_fastopen_connect(socket_, to, asio::buffer(request_),
                                        [this](error_code ec, std::size_t) { sent(ec); });
    }

    // The rest of the connection: the same for every variant.
    void sent(error_code ec)
    {
        if (ec)
            return fail();
        asio::async_read(socket_, asio::buffer(reply_), [this](error_code ec, std::size_t) {
            if (ec)
                return fail();
            socket_.async_read_some(asio::buffer(eof_), [this](error_code ec, std::size_t) {
                if (ec != asio::error::eof)
                    return fail();
                socket_.close();
                start();
            });
        });
    }

    void fail()
    {
        ++failed_;
        error_code ignored;
        socket_.close(ignored);
        start();
    }

    asio::io_context& io_;
    tcp::socket socket_;
    variant variant_;
    std::span<const tcp::endpoint> destinations_;
    std::size_t next_ = 0;
    std::uint64_t failed_ = 0;
    std::array<char, message_size> request_{};
    std::array<char, message_size> reply_{};
    std::array<char, 1> eof_{};
};

std::string self_path()
{
    std::array<char, 4096> path{};
    const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
    if (n <= 0)
        throw std::runtime_error(tfo_bench::errno_text("readlink(/proc/self/exe)"));
    return std::string(path.data(), static_cast<std::size_t>(n));
}

// Whether every thread of this process is traced.
bool all_threads_traced()
{
    DIR* tasks = ::opendir("/proc/self/task");
    if (!tasks)
        return false;
    bool all = true;
    while (const dirent* e = ::readdir(tasks))
    {
        if (e->d_name[0] == '.')
            continue;
        std::ifstream status(std::string("/proc/self/task/") + e->d_name + "/status");
        bool traced = false;
        for (std::string line; std::getline(status, line);)
            if (line.starts_with("TracerPid:"))
                traced = std::strtol(line.c_str() + 10, nullptr, 10) != 0;
        all = all && traced;
    }
    ::closedir(tasks);
    return all;
}

std::vector<std::string> split(const std::string& line, char separator)
{
    std::vector<std::string> out;
    std::stringstream in(line);
    for (std::string item; std::getline(in, item, separator);)
        out.push_back(item);
    return out;
}

// The descriptors of this process that are netlink sockets now, as "5,7": a
// path memory may hold one open across passes, opened before strace attached.
std::string open_netlink_descriptors()
{
    std::string out;
    DIR* fds = ::opendir("/proc/self/fd");
    if (!fds)
        return out;
    while (const dirent* e = ::readdir(fds))
    {
        const int fd = std::atoi(e->d_name);
        int domain = 0;
        socklen_t length = sizeof domain;
        if (e->d_name[0] != '.' && ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 &&
            domain == AF_NETLINK)
            out += (out.empty() ? "" : ",") + std::to_string(fd);
    }
    ::closedir(fds);
    return out;
}

// `strace -f` attached to this process (every thread) while it lives, its
// trace piped to `destinations --count-trace`, which prints the counts.
class tracer
{
public:
    explicit tracer(const std::string& self)
    {
        const std::string parent = std::to_string(::getpid());
        const std::string netlink = open_netlink_descriptors();
        const std::string output = "|'" + self + "' --count-trace" + (netlink.empty() ? "" : " " + netlink);
        pid_ = ::fork();
        if (pid_ < 0)
            throw std::runtime_error(tfo_bench::errno_text("fork"));
        if (pid_ == 0)
        {
            // Its notes on attaching (a call caught half-way) are not ours to print.
            if (const int null = ::open("/dev/null", O_WRONLY); null >= 0)
                ::dup2(null, STDERR_FILENO);
            ::execlp("strace", "strace", "-f", "-qq", "-p", parent.c_str(), "-o", output.c_str(), nullptr);
            ::_exit(127);
        }
        const auto deadline = clock_type::now() + std::chrono::seconds(20);
        while (!all_threads_traced())
        {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_ || clock_type::now() > deadline)
                throw std::runtime_error("strace did not attach (is it installed?)");
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    tracer(const tracer&) = delete;
    tracer& operator=(const tracer&) = delete;

    // strace detaches on SIGINT, and waits for the counting end of its pipe.
    ~tracer()
    {
        ::kill(pid_, SIGINT);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }

private:
    pid_t pid_ = -1;
};

// Entries of the kernel's tcp_metrics cache in this namespace: the client's,
// one per destination while the kernel keeps them, and a few of the server's.
long kernel_metrics_entries()
{
    FILE* p = ::popen("ip tcp_metrics show 2>/dev/null | wc -l", "r");
    if (!p)
        return -1;
    long n = -1;
    if (std::fscanf(p, "%ld", &n) != 1)
        n = -1;
    ::pclose(p);
    return n;
}

// `destinations --only VARIANT --destinations N --passes P [--trace S]`:
// one line per pass on stdout, then one about memory. With --trace, the first
// S destinations of each pass are traced (the lines of --count-trace).
//   pass,P,seconds,allocations,allocation_bytes,failed,pm_attempts,
//        pm_kernel_reads,pm_hedges_started,pm_successes,syn_data_acked,cookie_requests
//   memory,live_bytes_delta,metrics_entries_before,metrics_entries_after,server_failed
int run_only(const tfo_bench::options& options)
{
    const variant v = variant_named(options.get("only", ""));
    const int n = options.get_int("destinations", 1000);
    const int passes = options.get_int("passes", 3);
    const bool traced = options.has("trace");
    const int sample = traced ? std::min(n, options.get_int("trace", 1000)) : 0;
    if (n < 1 || n > 0xfe0000)
        throw std::invalid_argument("--destinations: 1 to 16,646,144");

    const auto netns = tfo_bench::enter_private_netns(); // before any thread starts
    const long metrics_before = traced ? -1 : kernel_metrics_entries();
    tfo_bench::loopback_server server(message_size, INADDR_ANY);
    asio::io_context io(1);
    auto& memory = asio::use_service<tfo::path_memory>(io);
    if (v == variant::tfo_nomemory)
    {
        tfo::path_memory_options o = memory.options();
        o.enabled = false;
        memory.set_options(o);
    }

    std::vector<tcp::endpoint> destinations;
    destinations.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        destinations.emplace_back(asio::ip::address_v4(0x7f010001u + static_cast<std::uint32_t>(i)), server.port());

    // Asio's caches and the reactor, on an address that is not a destination.
    client c(io, v);
    const std::vector<tcp::endpoint> warm_up(20, tcp::endpoint(asio::ip::address_v4::loopback(), server.port()));
    c.run(warm_up);

    const std::int64_t live_before = tfo_bench::live_heap_bytes.load();
    for (int pass = 1; pass <= passes; ++pass)
    {
        const auto counters_before = memory.counters();
        const auto kernel_before = tfo::kernel_counters();
        const auto heap_before = tfo_bench::heap;
        const auto start = clock_type::now();
        std::uint64_t failed = 0;
        if (traced)
        {
            const std::span<const tcp::endpoint> all(destinations);
            {
                const tracer traced(self_path());
                marker("pass-begin", pass);
                failed += c.run(all.first(static_cast<std::size_t>(sample)));
                marker("pass-end", pass);
            }
            failed += c.run(all.subspan(static_cast<std::size_t>(sample)));
        }
        else
            failed = c.run(destinations);
        const double seconds = tfo_bench::seconds_since(start);
        const auto heap_after = tfo_bench::heap;
        const auto kernel = tfo::kernel_counters() - kernel_before;
        const auto counters = memory.counters();
        std::printf("pass,%d,%.6f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", pass, seconds,
                    static_cast<unsigned long long>(heap_after.calls - heap_before.calls),
                    static_cast<unsigned long long>(heap_after.bytes - heap_before.bytes),
                    static_cast<unsigned long long>(failed),
                    static_cast<unsigned long long>(counters.attempts - counters_before.attempts),
                    static_cast<unsigned long long>(counters.kernel_reads - counters_before.kernel_reads),
                    static_cast<unsigned long long>(counters.hedges_started - counters_before.hedges_started),
                    static_cast<unsigned long long>(counters.successes - counters_before.successes),
                    static_cast<unsigned long long>(kernel.active),
                    static_cast<unsigned long long>(kernel.cookie_reqd));
        std::fflush(stdout);
    }
    const std::int64_t live_after = tfo_bench::live_heap_bytes.load();
    std::printf("memory,%lld,%ld,%ld,%llu\n", static_cast<long long>(live_after - live_before), metrics_before,
                traced ? -1 : kernel_metrics_entries(), static_cast<unsigned long long>(server.failed()));
    std::fflush(stdout);
    return 0;
}

// ------------------------------------------------------------ the trace

// `strace -f -qq -o '|destinations --count-trace' -p PID` (see `tracer`):
// reads the trace on stdin and prints, per pass,
//   syscalls,P,total,netlink,name:count;name:count...
int count_trace(const std::string& open_netlink)
{
    const std::string tag = "write(-1, \"tfo-bench ";
    std::map<std::string, std::uint64_t> counts;
    std::uint64_t total = 0;
    std::uint64_t netlink = 0;
    bool inside = false;
    std::set<long> netlink_fds;
    for (const std::string& fd : split(open_netlink, ','))
        netlink_fds.insert(std::stol(fd));
    std::set<std::string> pending_netlink_socket; // threads in an unfinished socket(AF_NETLINK)

    auto returned = [](const std::string& line) {
        const auto at = line.rfind(" = ");
        return at == std::string::npos ? -1L : std::strtol(line.c_str() + at + 3, nullptr, 10);
    };
    auto argument = [](const std::string& rest, int index) {
        std::size_t at = rest.find('(');
        for (int i = 0; i < index && at != std::string::npos; ++i)
            at = rest.find(", ", at + 1);
        if (at == std::string::npos)
            return -1L;
        const char* text = rest.c_str() + at + (index == 0 ? 1 : 2);
        return std::isdigit(static_cast<unsigned char>(*text)) ? std::strtol(text, nullptr, 10) : -1L;
    };

    for (std::string line; std::getline(std::cin, line);)
    {
        const auto space = line.find(' ');
        if (space == std::string::npos)
            continue;
        const std::string tid = line.substr(0, space);
        const auto begin = line.find_first_not_of(' ', space);
        if (begin == std::string::npos)
            continue;
        const std::string rest = line.substr(begin);
        if (rest.starts_with(tag))
        {
            int pass = 0;
            char what[32] = {};
            if (std::sscanf(rest.c_str() + tag.size(), "%31s %d", what, &pass) != 2)
                continue;
            if (std::string(what) == "pass-begin")
            {
                inside = true;
                counts.clear();
                total = netlink = 0;
            }
            else if (inside)
            {
                inside = false;
                std::string breakdown;
                for (const auto& [syscall, k] : counts)
                    breakdown += (breakdown.empty() ? "" : ";") + syscall + ":" + std::to_string(k);
                std::printf("syscalls,%d,%llu,%llu,%s\n", pass, static_cast<unsigned long long>(total),
                            static_cast<unsigned long long>(netlink), breakdown.c_str());
                std::fflush(stdout);
            }
            continue;
        }
        if (rest.starts_with("<... socket resumed>") && pending_netlink_socket.erase(tid))
        {
            if (const long fd = returned(rest); fd >= 0)
                netlink_fds.insert(fd);
            continue;
        }
        // A call split by another thread's output counts once, at its
        // "<unfinished ...>" half; signals and exits are not calls.
        if (!std::isalpha(static_cast<unsigned char>(rest[0])))
            continue;
        const std::string syscall = rest.substr(0, rest.find('('));
        bool is_netlink = false;
        if (syscall == "socket")
        {
            is_netlink = rest.starts_with("socket(AF_NETLINK");
            if (is_netlink && rest.find("<unfinished") != std::string::npos)
                pending_netlink_socket.insert(tid);
            else if (is_netlink)
                if (const long fd = returned(rest); fd >= 0)
                    netlink_fds.insert(fd);
        }
        else
        {
            const long fd = argument(rest, syscall == "epoll_ctl" ? 2 : 0);
            is_netlink = fd >= 0 && netlink_fds.contains(fd);
            if (is_netlink && syscall == "close")
                netlink_fds.erase(fd);
        }
        if (!inside)
            continue;
        ++total;
        ++counts[syscall];
        if (is_netlink)
            ++netlink;
    }
    return 0;
}

// ------------------------------------------------------------ the driver

struct pass_figures
{
    double seconds = 0;
    double allocations = 0;
    double allocation_bytes = 0;
    double failed = 0;
    double pm_attempts = 0;
    double pm_kernel_reads = 0;
    double pm_hedges_started = 0;
    double pm_successes = 0;
    double syn_data_acked = 0;
    double cookie_requests = 0;
};

struct run_figures
{
    std::vector<pass_figures> passes;
    double live_bytes_delta = 0;
    double metrics_before = 0;
    double metrics_after = 0;
    double server_failed = 0;
};

struct syscall_figures
{
    double connections = 0; // traced: the first ones of the pass
    double total = 0;
    double netlink = 0;
    std::string breakdown;
};

std::vector<std::string> run_command(const std::string& command)
{
    FILE* p = ::popen(command.c_str(), "r");
    if (!p)
        throw std::runtime_error(tfo_bench::errno_text("popen"));
    std::vector<std::string> lines;
    std::array<char, 8192> buffer{};
    while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), p))
    {
        std::string line = buffer.data();
        if (!line.empty() && line.back() == '\n')
            line.pop_back();
        lines.push_back(line);
    }
    if (::pclose(p) != 0)
        throw std::runtime_error("failed: " + command);
    return lines;
}

std::string child_arguments(variant v, int n, int passes)
{
    return std::string(" --only ") + name(v) + " --destinations " + std::to_string(n) + " --passes " +
           std::to_string(passes);
}

// The namespace of the previous run is torn down by the kernel after its
// process exits (its sockets in TIME_WAIT, its tcp_metrics entries): give
// that work time to finish before the next run is timed.
void settle(int n)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + n / 50));
}

run_figures timed_run(const std::string& self, variant v, int n, int passes)
{
    run_figures r;
    for (const std::string& line : run_command("'" + self + "'" + child_arguments(v, n, passes)))
    {
        const auto f = split(line, ',');
        if (f.size() == 12 && f[0] == "pass")
        {
            pass_figures p;
            double* fields[] = {&p.seconds,        &p.allocations,     &p.allocation_bytes,  &p.failed,
                                &p.pm_attempts,    &p.pm_kernel_reads, &p.pm_hedges_started, &p.pm_successes,
                                &p.syn_data_acked, &p.cookie_requests};
            for (std::size_t i = 0; i < std::size(fields); ++i)
                *fields[i] = std::stod(f[i + 2]);
            r.passes.push_back(p);
        }
        else if (f.size() == 5 && f[0] == "memory")
        {
            r.live_bytes_delta = std::stod(f[1]);
            r.metrics_before = std::stod(f[2]);
            r.metrics_after = std::stod(f[3]);
            r.server_failed = std::stod(f[4]);
        }
    }
    if (static_cast<int>(r.passes.size()) != passes)
        throw std::runtime_error(std::string("no figures from the run of ") + name(v));
    double failed = r.server_failed;
    for (const pass_figures& p : r.passes)
        failed += p.failed;
    if (failed > 0)
        std::cerr << "destinations: " << failed << " failed connections in a run of " << name(v) << " at N = " << n
                  << " (see the raw file)\n";
    settle(n);
    return r;
}

std::vector<syscall_figures> traced_run(const std::string& self, variant v, int n, int passes, int sample)
{
    std::vector<syscall_figures> out(static_cast<std::size_t>(passes));
    int seen = 0;
    const std::string command = "'" + self + "'" + child_arguments(v, n, passes) + " --trace " + std::to_string(sample);
    for (const std::string& line : run_command(command))
    {
        const auto f = split(line, ',');
        if (f.size() < 4 || f[0] != "syscalls")
            continue;
        const int pass = std::stoi(f[1]);
        if (pass < 1 || pass > passes)
            continue;
        auto& s = out[static_cast<std::size_t>(pass - 1)];
        s.connections = std::min(n, sample);
        s.total = std::stod(f[2]);
        s.netlink = std::stod(f[3]);
        s.breakdown = f.size() > 4 ? f[4] : "";
        ++seen;
    }
    if (seen != passes)
        throw std::runtime_error(std::string("no system call counts from the traced run of ") + name(v));
    settle(n);
    return out;
}

// The most frequent calls of a breakdown, per connection, for a note.
std::string top_calls(const std::string& breakdown, double n, std::size_t how_many)
{
    std::vector<std::pair<double, std::string>> calls;
    for (const std::string& item : split(breakdown, ';'))
        if (const auto colon = item.find(':'); colon != std::string::npos)
            calls.emplace_back(std::stod(item.substr(colon + 1)), item.substr(0, colon));
    std::sort(calls.rbegin(), calls.rend());
    std::string out;
    for (std::size_t i = 0; i < calls.size() && i < how_many; ++i)
        out += (out.empty() ? "" : " ") + calls[i].second + " " + tfo_bench::fixed(calls[i].first / n, 2);
    return out;
}

int drive(const tfo_bench::options& options)
{
    const bool quick = options.has("quick");
    const std::vector<int> sizes = options.get_int_list("destinations", quick ? "100,5000" : "100,1000,10000,100000");
    const int passes = options.get_int("passes", 3);
    const int min_connections = options.get_int("min-connections", quick ? 1000 : 6000);
    const bool traced = !options.has("no-strace");
    const int sample = options.get_int("trace-sample", quick ? 300 : 1000);
    if (passes < 2)
        throw std::invalid_argument("--passes: at least 2 (the first is first contact)");
    const std::string self = self_path();

    std::ofstream raw;
    if (options.has("raw"))
    {
        raw.open(options.get("raw", ""));
        raw << "n,variant,round,pass,quantity,total,connections,per_connection\n";
    }
    // `connections`: what `total` is a count of (the traced sample, all N, one pass).
    auto raw_row = [&](int n, variant v, int round, int pass, const std::string& quantity, double total,
                       double connections) {
        if (raw.is_open())
            raw << n << ',' << name(v) << ',' << round << ',' << pass << ',' << quantity << ',' << std::fixed
                << std::setprecision(6) << total << ',' << static_cast<long long>(connections) << ','
                << total / connections << '\n';
    };

    for (const int n : sizes)
    {
        // At least 3 rounds (the median of their ratios is reported): the
        // load of a shared machine comes and goes, within seconds and within
        // a 100,000-destination pass alike.
        const int least = quick ? 1 : 3;
        const int rounds = std::max(least, (min_connections + n * passes - 1) / (n * passes));
        std::cerr << "destinations: N = " << n << ", " << rounds << " round(s) of 3 variants x " << passes << " passes"
                  << (traced ? ", then each under strace" : "") << '\n';

        // Time: rounds of fresh processes, the order rotating.
        std::map<variant, std::vector<run_figures>> runs;
        for (int round = 0; round < rounds; ++round)
            for (std::size_t k = 0; k < all_variants.size(); ++k)
            {
                const variant v = all_variants[(k + static_cast<std::size_t>(round)) % all_variants.size()];
                runs[v].push_back(timed_run(self, v, n, passes));
            }
        std::map<variant, std::vector<syscall_figures>> syscalls;
        if (traced)
            for (variant v : all_variants)
                syscalls[v] = traced_run(self, v, n, passes, sample);

        // The raw figures.
        for (variant v : all_variants)
        {
            for (std::size_t round = 0; round < runs[v].size(); ++round)
            {
                const run_figures& r = runs[v][round];
                for (std::size_t p = 0; p < r.passes.size(); ++p)
                {
                    const pass_figures& f = r.passes[p];
                    const int pass = static_cast<int>(p) + 1;
                    const int at = static_cast<int>(round);
                    raw_row(n, v, at, pass, "seconds", f.seconds, n);
                    raw_row(n, v, at, pass, "allocations", f.allocations, n);
                    raw_row(n, v, at, pass, "allocation_bytes", f.allocation_bytes, n);
                    raw_row(n, v, at, pass, "failed", f.failed, n);
                    raw_row(n, v, at, pass, "path_memory_attempts", f.pm_attempts, n);
                    raw_row(n, v, at, pass, "path_memory_kernel_reads", f.pm_kernel_reads, n);
                    raw_row(n, v, at, pass, "path_memory_hedges_started", f.pm_hedges_started, n);
                    raw_row(n, v, at, pass, "path_memory_successes", f.pm_successes, n);
                    raw_row(n, v, at, pass, "syn_data_acked", f.syn_data_acked, n);
                    raw_row(n, v, at, pass, "cookie_requests", f.cookie_requests, n);
                }
                raw_row(n, v, static_cast<int>(round), 0, "live_heap_bytes_delta", r.live_bytes_delta, n);
                raw_row(n, v, static_cast<int>(round), 0, "kernel_metrics_entries_before", r.metrics_before, n);
                raw_row(n, v, static_cast<int>(round), 0, "kernel_metrics_entries_after", r.metrics_after, n);
                raw_row(n, v, static_cast<int>(round), 0, "server_failed", r.server_failed, n);
            }
            if (traced)
                for (int pass = 1; pass <= passes; ++pass)
                {
                    const syscall_figures& s = syscalls[v][static_cast<std::size_t>(pass - 1)];
                    raw_row(n, v, 0, pass, "syscalls", s.total, s.connections);
                    raw_row(n, v, 0, pass, "netlink_syscalls", s.netlink, s.connections);
                    for (const std::string& item : split(s.breakdown, ';'))
                        if (const auto colon = item.find(':'); colon != std::string::npos)
                            raw_row(n, v, 0, pass, "syscall_" + item.substr(0, colon),
                                    std::stod(item.substr(colon + 1)), s.connections);
                }
        }
        if (raw.is_open())
            raw.flush();

        // µs per connection of one run: the first pass, and the median of the others.
        auto first_us = [n](const run_figures& r) { return r.passes.front().seconds * 1e6 / n; };
        auto steady_us = [n](const run_figures& r) {
            std::vector<double> later;
            for (std::size_t p = 1; p < r.passes.size(); ++p)
                later.push_back(r.passes[p].seconds * 1e6 / n);
            return tfo_bench::median(later);
        };
        const std::string setting = "n" + std::to_string(n);
        auto time_rows = [&](const std::string& which, auto per_run) {
            for (variant v : all_variants)
            {
                std::vector<double> values, to_nomemory, to_asio;
                for (int round = 0; round < rounds; ++round)
                {
                    const double value = per_run(runs[v][static_cast<std::size_t>(round)]);
                    values.push_back(value);
                    to_nomemory.push_back(value /
                                          per_run(runs[variant::tfo_nomemory][static_cast<std::size_t>(round)]));
                    to_asio.push_back(value / per_run(runs[variant::asio][static_cast<std::size_t>(round)]));
                }
                tfo_bench::summary_row row;
                row.benchmark = "destinations";
                row.setting = setting + "_" + which + "_time";
                row.variant = name(v);
                row.value = tfo_bench::fixed(tfo_bench::median(values), 1);
                row.unit = "us/conn";
                row.ratio = tfo_bench::fixed(tfo_bench::median(to_nomemory), 3);
                row.ratio_to = "tfo-nomemory";
                if (v == variant::tfo && which != "pass1")
                {
                    row.target = "<=1.05";
                    row.met = tfo_bench::median(to_nomemory) <= 1.05 ? "yes" : "no";
                }
                const run_figures& last = runs[v].back();
                double acked = 0;
                for (const auto& p : last.passes)
                    acked += p.syn_data_acked;
                row.note = tfo_bench::fixed(tfo_bench::median(to_asio), 3) + " of asio; " + std::to_string(rounds) +
                           " round(s) of fresh processes; " +
                           (which == "pass1" ? "first contact" : "median of passes 2-" + std::to_string(passes)) +
                           "; SYN data acked in pass " + std::to_string(passes) + ": " +
                           tfo_bench::fixed(last.passes.back().syn_data_acked * 100.0 / n, 1) + "%";
                row.print();
            }
        };
        time_rows("pass1", first_us);
        time_rows("steady", steady_us);

        if (traced)
            for (int pass : {1, passes})
                for (variant v : all_variants)
                {
                    const syscall_figures& s = syscalls[v][static_cast<std::size_t>(pass - 1)];
                    const syscall_figures& base = syscalls[variant::tfo_nomemory][static_cast<std::size_t>(pass - 1)];
                    const syscall_figures& plain = syscalls[variant::asio][static_cast<std::size_t>(pass - 1)];
                    tfo_bench::summary_row row;
                    row.benchmark = "destinations";
                    row.setting = setting + "_pass" + std::to_string(pass) + "_syscalls";
                    row.variant = name(v);
                    const double per = s.total / s.connections;
                    const double base_per = base.total / base.connections;
                    row.value = tfo_bench::fixed(per, 2);
                    row.unit = "syscalls/conn";
                    row.ratio = tfo_bench::fixed(per / base_per, 3);
                    row.ratio_to = "tfo-nomemory";
                    if (v == variant::tfo)
                    {
                        // Issue 20: at most 2 more at first contact; none of its own in steady state.
                        row.target = pass == 1 ? "<=+2" : "+0 netlink";
                        row.met = (pass == 1 ? per - base_per <= 2.0 : s.netlink == 0) ? "yes" : "no";
                    }
                    row.note = "netlink " + tfo_bench::fixed(s.netlink / s.connections, 2) + "/conn; " +
                               tfo_bench::fixed(per - base_per, 2) + " more than tfo-nomemory; " +
                               tfo_bench::fixed(per / (plain.total / plain.connections), 3) +
                               " of asio; exact (strace -f) over the first " + tfo_bench::fixed(s.connections, 0) +
                               " connections of the pass; " + top_calls(s.breakdown, s.connections, 8);
                    row.print();
                }

        for (variant v : all_variants)
        {
            const run_figures& r = runs[v].back();
            const pass_figures& first = r.passes.front();
            const pass_figures& last = r.passes.back();
            tfo_bench::summary_row row;
            row.benchmark = "destinations";
            row.setting = setting + "_allocations";
            row.variant = name(v);
            row.value = tfo_bench::fixed(last.allocations / n, 2);
            row.unit = "allocations/conn";
            row.note = "pass " + std::to_string(passes) + "; first pass " + tfo_bench::fixed(first.allocations / n, 2) +
                       "; client thread; operator new; path memory in pass " + std::to_string(passes) + ": " +
                       tfo_bench::fixed(last.pm_kernel_reads / n, 2) + " kernel reads/conn " +
                       tfo_bench::fixed(last.pm_hedges_started / n, 3) + " hedges/conn";
            row.print();
        }
        for (variant v : all_variants)
        {
            const run_figures& r = runs[v].back();
            tfo_bench::summary_row row;
            row.benchmark = "destinations";
            row.setting = setting + "_memory";
            row.variant = name(v);
            row.value = tfo_bench::fixed(r.live_bytes_delta / n, 1);
            row.unit = "bytes/destination";
            row.note = "live heap after " + std::to_string(passes) +
                       " passes minus before: " + tfo_bench::fixed(r.live_bytes_delta, 0) +
                       " bytes; kernel tcp_metrics entries after: " + tfo_bench::fixed(r.metrics_after, 0);
            row.print();
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        const tfo_bench::options options(argc, argv);
        if (options.has("count-trace"))
            return count_trace(options.get("count-trace", ""));
        if (options.has("only"))
            return run_only(options);
        return drive(options);
    }
    catch (const std::exception& e)
    {
        std::cerr << "destinations: " << e.what() << '\n';
        return 1;
    }
}
