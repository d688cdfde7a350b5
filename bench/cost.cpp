//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// cost: what one connect-and-send costs the client in heap allocations and
// system calls, for
//
//   asio        socket.async_connect + asio::async_write (the plain pair)
//   tfo_async   tfo::async_fastopen_connect
//   tfo_option  socket.open + set_option(tfo::fast_open_deferred_connect) + the plain pair
//   raw         no Asio: socket + sendmsg(MSG_FASTOPEN), then epoll by hand (a
//               floor: it does not wait for the handshake, nor allocate)
//   raw_plain   no Asio and no Fast Open: socket + connect, send once writable
//
// on loopback, in a private network namespace the process makes itself (root
// needed), against the epoll server of loopback_server.hpp on another thread.
// "The operation" runs from the call that starts it to its completion
// handler; after it the client reads the reply and the server's close, and
// closes (the rest of the connection, counted separately).
//
//   cost [--iterations 1000]        heap allocations (summary rows on stdout)
//   strace -f -qq -o TRACE cost --markers [--iterations 200]
//   cost --parse-strace TRACE        system calls, from that trace
//   cost --instructions [--iterations 200] [--repeat 5]
//                                    user-space instructions per connection,
//                                    asio and tfo_async, under callgrind
//
// Heap allocations are counted two ways, on the client thread only:
// - operator new calls (replaced below) in the steady state, with Asio's
//   default handler allocator, which recycles operation memory per thread;
// - requests made to the completion handler's associated allocator (bound
//   with asio::bind_allocator): how many blocks the operation needs at all,
//   which is what reaches the heap when recycling misses or a custom
//   allocator is used.
//
// System calls: with --markers the client makes a write(-1, "tfo-bench ...")
// call (it fails with EBADF, and does nothing) at the start of each operation,
// at its completion, and after the close; --parse-strace counts the client
// thread's calls between them.
//

#include "bench_support.hpp"
#include "heap_counting.hpp"
#include "loopback_server.hpp"

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include <boost/asio.hpp>
#include <boost/asio/bind_allocator.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <new>
#include <string>
#include <sys/epoll.h>
#include <vector>

// ------------------------------------------------------------ the client

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t message_size = 100;

using tfo_bench::all_variants;
using tfo_bench::heap;
using tfo_bench::heap_counter;
using tfo_bench::name;
using tfo_bench::variant;

struct allocator_counter
{
    std::uint64_t calls = 0;
    std::uint64_t bytes = 0;
};

// Counts what asks it for memory, then gets the memory from the heap.
template <typename T>
struct counting_allocator
{
    using value_type = T;

    explicit counting_allocator(allocator_counter* c) noexcept : counter(c) {}
    template <typename U>
    counting_allocator(const counting_allocator<U>& other) noexcept : counter(other.counter)
    {
    }

    T* allocate(std::size_t n)
    {
        ++counter->calls;
        counter->bytes += n * sizeof(T);
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }

    template <typename U>
    bool operator==(const counting_allocator<U>& other) const noexcept
    {
        return counter == other.counter;
    }

    allocator_counter* counter;
};

void marker(const char* what, variant v, bool enabled)
{
    if (!enabled)
        return;
    char text[64];
    const int n = std::snprintf(text, sizeof text, "tfo-bench %s %s", what, name(v));
    [[maybe_unused]] auto ignored = ::write(-1, text, static_cast<std::size_t>(n));
}

struct totals
{
    std::uint64_t ops = 0;
    std::uint64_t heap_calls = 0;
    std::uint64_t heap_bytes = 0;
    allocator_counter bound;
};

// Runs connections one after another: `iterations` rounds of every variant
// (or of `only`).
class client
{
public:
    client(asio::io_context& io, std::uint16_t port, bool bind_allocator, bool markers,
           std::optional<variant> only = std::nullopt)
        : io_(io), socket_(io), endpoint_(asio::ip::address_v4::loopback(), port),
          bind_allocator_(bind_allocator), markers_(markers), only_(only)
    {
        request_.fill('q');
        raw_epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    }

    ~client() { ::close(raw_epoll_); }

    client(const client&) = delete;
    client& operator=(const client&) = delete;

    void run(int iterations)
    {
        remaining_ = iterations * (only_ ? 1 : static_cast<int>(all_variants.size()));
        next();
        io_.restart();
        io_.run();
        if (failure_)
            throw boost::system::system_error(failure_, std::string("cost: ") + name(current_));
    }

    const totals& results(variant v) const { return totals_[static_cast<std::size_t>(v)]; }

private:
    void next()
    {
        if (remaining_-- == 0)
            return;
        current_ = only_ ? *only_ : all_variants[static_cast<std::size_t>(remaining_) % all_variants.size()];
        start_op();
    }

    void start_op()
    {
        totals& t = totals_[static_cast<std::size_t>(current_)];
        marker("op-begin", current_, markers_);
        heap_at_start_ = heap;
        switch (current_)
        {
        case variant::tfo_async:
            if (bind_allocator_)
                tfo::async_fastopen_connect(socket_, endpoint_, asio::buffer(request_),
                                            asio::bind_allocator(counting_allocator<void>(&t.bound),
                                                                 [this](error_code ec, std::size_t) { op_done(ec); }));
            else
                tfo::async_fastopen_connect(socket_, endpoint_, asio::buffer(request_),
                                            [this](error_code ec, std::size_t) { op_done(ec); });
            return;
        case variant::raw:
        case variant::raw_plain:
            return raw_connection(current_ == variant::raw);
        case variant::tfo_option:
            socket_.open(tcp::v4());
            socket_.set_option(tfo::fast_open_deferred_connect{true});
            break;
        case variant::asio:
            break;
        }
        auto write = [this, counter = &t.bound](error_code ec) {
            if (ec)
                return fail(ec);
            if (bind_allocator_)
                asio::async_write(socket_, asio::buffer(request_),
                                  asio::bind_allocator(counting_allocator<void>(counter),
                                                       [this](error_code ec, std::size_t) { op_done(ec); }));
            else
                asio::async_write(socket_, asio::buffer(request_), [this](error_code ec, std::size_t) { op_done(ec); });
        };
        if (bind_allocator_)
            socket_.async_connect(endpoint_, asio::bind_allocator(counting_allocator<void>(&t.bound), write));
        else
            socket_.async_connect(endpoint_, write);
    }

    // At the completion of the operation: its allocations.
    void account()
    {
        const heap_counter now = heap;
        marker("op-end", current_, markers_);
        totals& t = totals_[static_cast<std::size_t>(current_)];
        ++t.ops;
        t.heap_calls += now.calls - heap_at_start_.calls;
        t.heap_bytes += now.bytes - heap_at_start_.bytes;
    }

    // A whole connection without Asio, as a C program would write it. The
    // operation ends when the request is handed to the kernel.
    void raw_connection(bool fast_open)
    {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(endpoint_.port());
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ssize_t sent = 0;
        if (fast_open)
        {
            iovec iov{request_.data(), request_.size()};
            msghdr msg{};
            msg.msg_name = &address;
            msg.msg_namelen = sizeof address;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            sent = ::sendmsg(fd, &msg, MSG_FASTOPEN | MSG_NOSIGNAL);
            account();
        }
        else if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        {
            sent = -1;
        }
        // EINPROGRESS: the handshake is under way (for Fast Open: no cookie yet, in the warm-up).
        if (sent < 0 && errno != EINPROGRESS)
        {
            const error_code ec(errno, boost::system::system_category());
            ::close(fd);
            return fail(ec);
        }
        std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;

        epoll_event event{};
        event.events = EPOLLIN | (done < request_.size() ? EPOLLOUT : 0u);
        ::epoll_ctl(raw_epoll_, EPOLL_CTL_ADD, fd, &event);
        std::size_t received = 0;
        for (bool open = true; open;)
        {
            ::epoll_wait(raw_epoll_, &event, 1, -1);
            if (done < request_.size() && (event.events & EPOLLOUT))
            {
                sent = ::send(fd, request_.data() + done, request_.size() - done, MSG_NOSIGNAL);
                done += sent > 0 ? static_cast<std::size_t>(sent) : 0;
                if (done == request_.size())
                {
                    if (!fast_open)
                        account();
                    event.events = EPOLLIN;
                    ::epoll_ctl(raw_epoll_, EPOLL_CTL_MOD, fd, &event);
                }
            }
            for (;;)
            {
                const ssize_t n = ::recv(fd, reply_.data(), reply_.size(), 0);
                if (n > 0)
                    received += static_cast<std::size_t>(n);
                if (n <= 0)
                {
                    open = n != 0 && errno == EAGAIN;
                    break;
                }
            }
        }
        ::close(fd);
        if (received != reply_.size())
            return fail(asio::error::message_size);
        marker("cycle-end", current_, markers_);
        // Through the io_context, so that runs of raw connections do not recurse.
        asio::post(io_, [this] { next(); });
    }

    void op_done(error_code ec)
    {
        account();
        if (ec)
            return fail(ec);

        // The rest of the connection: the same for every Asio variant.
        asio::async_read(socket_, asio::buffer(reply_), [this](error_code ec, std::size_t) {
            if (ec)
                return fail(ec);
            socket_.async_read_some(asio::buffer(eof_), [this](error_code ec, std::size_t) {
                if (ec != asio::error::eof)
                    return fail(ec ? ec : asio::error::message_size);
                socket_.close();
                marker("cycle-end", current_, markers_);
                next();
            });
        });
    }

    void fail(error_code ec)
    {
        failure_ = ec;
        error_code ignored;
        socket_.close(ignored);
    }

    asio::io_context& io_;
    tcp::socket socket_;
    tcp::endpoint endpoint_;
    bool bind_allocator_;
    bool markers_;
    std::array<char, message_size> request_{};
    std::array<char, message_size> reply_{};
    std::array<char, 1> eof_{};
    int remaining_ = 0;
    variant current_ = variant::asio;
    std::optional<variant> only_;
    heap_counter heap_at_start_{0, 0};
    int raw_epoll_ = -1;
    error_code failure_;
    std::array<totals, all_variants.size()> totals_{};
};

void print_row(const std::string& setting, variant v, double value, double base, const std::string& unit,
               const std::string& note)
{
    tfo_bench::summary_row row;
    row.benchmark = "cost";
    row.setting = setting;
    row.variant = name(v);
    row.value = tfo_bench::fixed(value, 2);
    row.unit = unit;
    row.ratio = base > 0 ? tfo_bench::fixed(value / base, 3) : "";
    row.ratio_to = "asio";
    if (v == variant::tfo_async)
    {
        row.target = "<=asio";
        row.met = value <= base + 1e-9 ? "yes" : "no";
    }
    row.note = note;
    row.print();
}

int measure(const tfo_bench::options& options)
{
    const bool markers = options.has("markers");
    const int iterations = options.get_int("iterations", markers ? 200 : 1000);

    const auto netns = tfo_bench::enter_private_netns(); // before any thread starts
    tfo_bench::loopback_server server(message_size);
    asio::io_context io(1);

    // Fetch the cookie and fill Asio's pools and caches: steady state only.
    client(io, server.port(), false, false).run(20);
    client(io, server.port(), true, false).run(20);

    const auto before = tfo::kernel_counters();
    client plain(io, server.port(), false, markers);
    plain.run(iterations);
    const auto delta = tfo::kernel_counters() - before;
    // Every tfo_async, tfo_option and raw connection should have had its data acked in the SYN.
    const double acked = static_cast<double>(delta.active) / (3.0 * iterations); // tfo_async, tfo_option, raw
    if (markers)
        return 0; // the counts come from the trace

    client bound(io, server.port(), true, false);
    bound.run(iterations);

    const totals& base_plain = plain.results(variant::asio);
    const totals& base_bound = bound.results(variant::asio);
    auto per_op = [](std::uint64_t n, const totals& t) { return static_cast<double>(n) / static_cast<double>(t.ops); };
    for (variant v : all_variants)
    {
        const totals& t = plain.results(v);
        print_row("operator_new_per_op", v, per_op(t.heap_calls, t), per_op(base_plain.heap_calls, base_plain),
                  "calls/op",
                  std::string(v == variant::raw || v == variant::raw_plain ? "no Asio" : "steady state with Asio's recycling allocator") +
                      "; " + tfo_bench::fixed(per_op(t.heap_bytes, t), 0) +
                      " bytes/op; " + std::to_string(t.ops) + " ops" +
                      (v == variant::tfo_async ? "; SYN data acked for " + tfo_bench::fixed(acked * 100, 1) +
                                                     "% of the TFO connections"
                                               : ""));
    }
    for (variant v : all_variants)
    {
        const totals& t = bound.results(v);
        print_row("handler_allocations_per_op", v, per_op(t.bound.calls, t),
                  per_op(base_bound.bound.calls, base_bound), "allocations/op",
                  "blocks requested from the handler's allocator; " + tfo_bench::fixed(per_op(t.bound.bytes, t), 0) +
                      " bytes/op");
    }
    if (server.failed() != 0)
        std::cerr << "cost: the server saw " << server.failed() << " incomplete connections\n";
    return 0;
}

// ------------------------------------------------------------ instructions

// One variant alone (`cost --only tfo_async --iterations N`): what callgrind
// counts for the instruction rows.
int run_only(const tfo_bench::options& options)
{
    const std::string wanted = options.get("only", "");
    std::optional<variant> only;
    for (variant v : all_variants)
        if (wanted == name(v))
            only = v;
    if (!only)
        throw std::runtime_error("--only: no variant " + wanted);
    const auto netns = tfo_bench::enter_private_netns();
    tfo_bench::loopback_server server(message_size);
    asio::io_context io(1);
    client(io, server.port(), false, false, only).run(options.get_int("iterations", 100));
    return 0;
}

// The instructions callgrind counted in a run of `cost --only v --iterations n`
// (every thread: the client and the in-process server).
std::uint64_t instructions_of(variant v, int n)
{
    const std::string out = "/tmp/tfo-bench-callgrind." + std::to_string(::getpid());
    const std::string command = "valgrind --tool=callgrind --callgrind-out-file=" + out +
                                " /proc/" + std::to_string(::getpid()) + "/exe --only " + name(v) +
                                " --iterations " + std::to_string(n) + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0)
        throw std::runtime_error("valgrind failed: " + command);
    std::ifstream in(out);
    std::uint64_t total = 0;
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("summary:") || line.starts_with("totals:"))
            total = std::stoull(line.substr(line.find(':') + 1));
    std::remove(out.c_str());
    if (total == 0)
        throw std::runtime_error("no instruction count in callgrind's output");
    return total;
}

// User-space instructions per request/response connection: two run lengths
// under callgrind, the difference over the extra connections (start-up,
// warm-up and the namespace cancel out), for the plain pair and for tfo.
int instructions(const tfo_bench::options& options)
{
    const int shorter = options.get_int("iterations", 200);
    const int longer = 2 * shorter;
    // The client's event loop does not take the same path every run (an
    // answer there at once, or after one more epoll_wait): the median of
    // several pairs of runs.
    const int repeats = options.get_int("repeat", 5);
    const variant measured[] = {variant::asio, variant::tfo_async};
    std::array<double, 2> per_connection{};
    for (std::size_t i = 0; i < 2; ++i)
    {
        std::vector<double> samples;
        for (int r = 0; r < repeats; ++r)
            samples.push_back(static_cast<double>(instructions_of(measured[i], longer)) -
                              static_cast<double>(instructions_of(measured[i], shorter)));
        std::sort(samples.begin(), samples.end());
        per_connection[i] = samples[samples.size() / 2] / (longer - shorter);
    }
    for (std::size_t i = 0; i < 2; ++i)
        print_row("instructions_per_connection", measured[i], per_connection[i], per_connection[0],
                  "instructions/conn",
                  "callgrind, client and in-process server, connect + request + reply + close; median over " +
                      std::to_string(repeats) + " of (I(" + std::to_string(longer) + ") - I(" +
                      std::to_string(shorter) + ")) / " + std::to_string(longer - shorter));
    return 0;
}

// ------------------------------------------------------------ strace parsing

struct syscall_counts
{
    std::uint64_t iterations = 0;
    std::map<std::string, std::uint64_t> op;
    std::map<std::string, std::uint64_t> connection; // op, then the rest of the connection
};

std::string breakdown(const std::map<std::string, std::uint64_t>& counts, std::uint64_t iterations)
{
    std::string out;
    for (const auto& [syscall, n] : counts)
    {
        if (!out.empty())
            out += "; ";
        out += syscall + " " + tfo_bench::fixed(static_cast<double>(n) / static_cast<double>(iterations), 2);
    }
    return out;
}

int parse_strace(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);

    std::map<std::string, syscall_counts> by_variant;
    std::string client_tid;
    std::string current;
    enum class phase { none, op, rest } where = phase::none;
    const std::string tag = "write(-1, \"tfo-bench ";

    for (std::string line; std::getline(in, line);)
    {
        const auto space = line.find_first_of(" \t");
        if (space == std::string::npos)
            continue;
        const std::string tid = line.substr(0, space);
        std::string rest = line.substr(line.find_first_not_of(" \t", space));
        if (rest.starts_with(tag))
        {
            // write(-1, "tfo-bench op-begin asio", 23) = -1 EBADF ...
            const auto end = rest.find('"', tag.size());
            std::string text = rest.substr(tag.size(), end - tag.size());
            const auto gap = text.find(' ');
            const std::string what = text.substr(0, gap);
            const std::string v = text.substr(gap + 1);
            client_tid = tid;
            if (what == "op-begin")
            {
                current = v;
                where = phase::op;
                ++by_variant[v].iterations;
            }
            else if (what == "op-end")
                where = phase::rest;
            else
                where = phase::none;
            continue;
        }
        // Only the client thread, inside a window; a call split by another
        // thread's output counts once, at its "<unfinished ...>" half.
        if (tid != client_tid || where == phase::none || rest.starts_with("<...") || !std::isalpha(rest[0]))
            continue;
        const std::string syscall = rest.substr(0, rest.find('('));
        syscall_counts& c = by_variant[current];
        if (where == phase::op)
            ++c.op[syscall];
        ++c.connection[syscall];
    }

    auto total = [](const std::map<std::string, std::uint64_t>& m) {
        std::uint64_t n = 0;
        for (const auto& [k, v] : m)
            n += v;
        return n;
    };
    const syscall_counts& base = by_variant["asio"];
    if (base.iterations == 0)
        throw std::runtime_error("no markers in " + path + " (was it made with cost --markers?)");
    auto mean = [](std::uint64_t n, const syscall_counts& c) {
        return static_cast<double>(n) / static_cast<double>(c.iterations);
    };
    for (variant v : all_variants)
    {
        const syscall_counts& c = by_variant[name(v)];
        print_row("syscalls_per_op", v, mean(total(c.op), c), mean(total(base.op), base), "syscalls/op",
                  breakdown(c.op, c.iterations));
    }
    for (variant v : all_variants)
    {
        const syscall_counts& c = by_variant[name(v)];
        print_row("syscalls_per_connection", v, mean(total(c.connection), c), mean(total(base.connection), base),
                  "syscalls/conn", "op + read reply + read close + close; " + breakdown(c.connection, c.iterations));
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        const tfo_bench::options options(argc, argv);
        if (options.has("parse-strace"))
            return parse_strace(options.get("parse-strace", ""));
        if (options.has("only"))
            return run_only(options);
        if (options.has("instructions"))
            return instructions(options);
        return measure(options);
    }
    catch (const std::exception& e)
    {
        std::cerr << "cost: " << e.what() << '\n';
        return 1;
    }
}
