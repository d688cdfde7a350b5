//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// rate: short connections per second on loopback. Each connection: connect,
// send a 64-byte request, read the 64-byte reply, read the server's close,
// close. The client keeps `window` connections in flight on one thread; the
// server (loopback_server.hpp) is the same for every variant, on another.
//
//   asio        socket.async_connect + async_write + async_read
//   tfo_async   tfo::async_fastopen_connect + async_read
//   tfo_option  the tfo::fast_open_deferred_connect option, then the same code as asio
//   raw         no Asio: sendmsg(MSG_FASTOPEN) and epoll, by hand
//   raw_plain   no Asio and no Fast Open: connect, then send, by hand
//
// The process moves itself into a private network namespace first (root
// needed), so nothing reaches the host's interfaces or sysctls.
//
//   rate [--slice 0.5] [--rounds 14] [--windows 1,8] [--raw FILE]
//
// Each round runs every variant for one slice of time, in an order that
// rotates. The two vCPUs of a shared machine see background load that comes
// and goes within seconds, so slices are short and each ratio is taken within
// a round (variant / baseline, same round), then the median over the rounds.
// The summary rows on stdout give median rates and those median ratios.
//

#include "bench_support.hpp"
#include "loopback_server.hpp"

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include <boost/asio.hpp>

#include <array>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <sys/epoll.h>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t message_size = 64;

using tfo_bench::all_variants;
using tfo_bench::name;
using tfo_bench::variant;

struct run_state
{
    clock_type::time_point deadline;
    std::uint64_t completed = 0; // before the deadline
    std::uint64_t finished = 0;  // including those that ended after it
    std::uint64_t errors = 0;
    error_code first_error;
};

const std::array<char, message_size> request = [] {
    std::array<char, message_size> a;
    a.fill('q');
    return a;
}();

// One connection slot of the Asio client: it runs connections back to back
// until the deadline. Handlers capture only `this`, the common idiom.
class session
{
public:
    session(asio::io_context& io, const tcp::endpoint& endpoint, variant v, run_state& state)
        : socket_(io), endpoint_(endpoint), variant_(v), state_(state)
    {
    }

    void start()
    {
        if (clock_type::now() >= state_.deadline)
            return;
        switch (variant_)
        {
        case variant::tfo_async:
            tfo::async_fastopen_connect(socket_, endpoint_, asio::buffer(request),
                                        [this](error_code ec, std::size_t) { on_written(ec); });
            return;
        case variant::tfo_option:
            socket_.open(tcp::v4());
            socket_.set_option(tfo::fast_open_deferred_connect{true});
            break;
        default:
            break;
        }
        socket_.async_connect(endpoint_, [this](error_code ec) {
            if (ec)
                return fail(ec);
            asio::async_write(socket_, asio::buffer(request), [this](error_code ec, std::size_t) { on_written(ec); });
        });
    }

private:
    void on_written(error_code ec)
    {
        if (ec)
            return fail(ec);
        asio::async_read(socket_, asio::buffer(reply_), [this](error_code ec, std::size_t) {
            if (ec)
                return fail(ec);
            // The server closes after its reply; reading that close first
            // keeps our side out of TIME_WAIT.
            socket_.async_read_some(asio::buffer(eof_), [this](error_code ec, std::size_t) {
                if (ec != asio::error::eof)
                    return fail(ec ? ec : asio::error::message_size);
                socket_.close();
                ++state_.finished;
                if (clock_type::now() <= state_.deadline)
                    ++state_.completed;
                start();
            });
        });
    }

    void fail(error_code ec)
    {
        if (state_.errors++ == 0)
            state_.first_error = ec;
        error_code ignored;
        socket_.close(ignored);
    }

    tcp::socket socket_;
    tcp::endpoint endpoint_;
    variant variant_;
    run_state& state_;
    std::array<char, message_size> reply_{};
    std::array<char, 1> eof_{};
};

void run_asio(asio::io_context& io, std::uint16_t port, variant v, int window, run_state& state)
{
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
    std::vector<std::unique_ptr<session>> sessions;
    for (int i = 0; i < window; ++i)
        sessions.push_back(std::make_unique<session>(io, endpoint, v, state));
    for (auto& s : sessions)
        s->start();
    io.restart();
    io.run(); // returns once every session has stopped after the deadline
}

// The same work without Asio: what the kernel interface alone costs. With
// `fast_open` the request goes with sendmsg(MSG_FASTOPEN), else after connect.
void run_raw(std::uint16_t port, int window, bool fast_open, run_state& state)
{
    struct slot
    {
        int fd = -1;
        std::size_t sent = 0;
        std::size_t received = 0;
    };
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);

    const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<slot> slots(static_cast<std::size_t>(window));
    int active = 0;

    auto fail = [&](slot& s) {
        if (state.errors++ == 0)
            state.first_error = error_code(errno, boost::system::system_category());
        ::close(s.fd);
        s.fd = -1;
        --active;
    };

    auto start = [&](std::size_t i) {
        slot& s = slots[i];
        if (clock_type::now() >= state.deadline)
            return;
        s = {::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 0, 0};
        ++active;
        if (fast_open)
        {
            iovec iov{const_cast<char*>(request.data()), request.size()};
            msghdr msg{};
            msg.msg_name = &address;
            msg.msg_namelen = sizeof address;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            const ssize_t n = ::sendmsg(s.fd, &msg, MSG_FASTOPEN | MSG_NOSIGNAL);
            if (n >= 0)
                s.sent = static_cast<std::size_t>(n);
            else if (errno != EINPROGRESS) // EINPROGRESS: no cookie yet, the SYN asks for one
                return fail(s);
        }
        else if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 &&
                 errno != EINPROGRESS)
        {
            return fail(s);
        }
        epoll_event event{};
        event.events = EPOLLIN | (s.sent < message_size ? EPOLLOUT : 0u);
        event.data.u64 = i;
        ::epoll_ctl(epoll, EPOLL_CTL_ADD, s.fd, &event);
    };

    auto ready = [&](std::size_t i, std::uint32_t events) {
        slot& s = slots[i];
        if ((events & EPOLLOUT) && s.sent < message_size)
        {
            const ssize_t n = ::send(s.fd, request.data() + s.sent, message_size - s.sent, MSG_NOSIGNAL);
            if (n < 0)
                return errno == EAGAIN ? void() : fail(s);
            s.sent += static_cast<std::size_t>(n);
            if (s.sent == message_size)
            {
                epoll_event event{};
                event.events = EPOLLIN;
                event.data.u64 = i;
                ::epoll_ctl(epoll, EPOLL_CTL_MOD, s.fd, &event);
            }
        }
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            return;
        char buffer[message_size];
        for (;;)
        {
            const ssize_t n = ::recv(s.fd, buffer, sizeof buffer, 0);
            if (n > 0)
            {
                s.received += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EAGAIN)
                return;
            if (n < 0 || s.received != message_size)
                return fail(s);
            ::close(s.fd); // also leaves the epoll set
            s.fd = -1;
            --active;
            ++state.finished;
            if (clock_type::now() <= state.deadline)
                ++state.completed;
            return start(i);
        }
    };

    for (std::size_t i = 0; i < slots.size(); ++i)
        start(i);
    std::vector<epoll_event> events(slots.size());
    while (active > 0)
    {
        const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
        for (int k = 0; k < n; ++k)
            ready(events[static_cast<std::size_t>(k)].data.u64, events[static_cast<std::size_t>(k)].events);
    }
    ::close(epoll);
}

struct result
{
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
    double rate = 0;
    double client_cpu_us = 0; // client thread CPU per connection
    double fastopen_fraction = 0; // TCPFastOpenActive per connection
};

result run(asio::io_context& io, std::uint16_t port, variant v, int window, double seconds)
{
    run_state state;
    const auto before = tfo::kernel_counters();
    const double cpu0 = tfo_bench::thread_cpu_seconds();
    const auto start = clock_type::now();
    state.deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    if (v == variant::raw || v == variant::raw_plain)
        run_raw(port, window, v == variant::raw, state);
    else
        run_asio(io, port, v, window, state);
    const double cpu = tfo_bench::thread_cpu_seconds() - cpu0;
    const auto delta = tfo::kernel_counters() - before;
    if (state.errors != 0)
        std::cerr << "rate: " << name(v) << ": " << state.errors << " failed connections, first: "
                  << state.first_error.message() << '\n';
    result r;
    r.completed = state.completed;
    r.errors = state.errors;
    r.rate = static_cast<double>(state.completed) / seconds;
    // CPU time and counters include the few connections that ended after the deadline.
    const double finished = static_cast<double>(state.finished);
    r.client_cpu_us = state.finished ? cpu / finished * 1e6 : 0;
    r.fastopen_fraction = state.finished ? static_cast<double>(delta.active) / finished : 0;
    return r;
}

using round_results = std::vector<std::array<result, all_variants.size()>>;

// Median over the rounds of a per-round value.
template <typename Field>
double median_over_rounds(const round_results& rounds, Field field)
{
    std::vector<double> values;
    for (const auto& round : rounds)
        values.push_back(field(round));
    return tfo_bench::median(values);
}

void summarise(int window, const round_results& rounds)
{
    auto at = [](variant v) { return static_cast<std::size_t>(v); };
    const std::string setting = "window_" + std::to_string(window);
    for (variant v : all_variants)
    {
        const double rate = median_over_rounds(rounds, [&](const auto& r) { return r[at(v)].rate; });
        const double cpu = median_over_rounds(rounds, [&](const auto& r) { return r[at(v)].client_cpu_us; });
        const double acked = median_over_rounds(rounds, [&](const auto& r) { return r[at(v)].fastopen_fraction; });
        auto row = [&](variant base, std::string target, double limit) {
            const double ratio =
                median_over_rounds(rounds, [&](const auto& r) { return r[at(v)].rate / r[at(base)].rate; });
            tfo_bench::summary_row out;
            out.benchmark = "rate";
            out.setting = setting;
            out.variant = name(v);
            out.value = tfo_bench::fixed(rate, 0);
            out.unit = "conn/s";
            out.ratio = tfo_bench::fixed(ratio, 3);
            out.ratio_to = name(base);
            if (!target.empty())
            {
                out.target = std::move(target);
                out.met = ratio >= limit ? "yes" : "no";
            }
            out.note = "client thread CPU " + tfo_bench::fixed(cpu, 1) + " us/conn; SYN data acked " +
                       tfo_bench::fixed(acked * 100, 1) + "%; " + std::to_string(rounds.size()) + " rounds";
            out.print();
        };
        switch (v)
        {
        case variant::tfo_async:
            row(variant::asio, ">=1.00", 1.0);
            row(variant::raw, ">=0.95", 0.95);
            break;
        case variant::raw_plain:
            row(variant::asio, "", 0);
            row(variant::raw, "", 0);
            break;
        default:
            row(variant::asio, "", 0);
            break;
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        const tfo_bench::options options(argc, argv);
        const double slice = options.get_number("slice", 0.5);
        const int rounds = options.get_int("rounds", 14);
        const std::vector<int> windows = options.get_int_list("windows", "1,8");
        const std::string raw_path = options.get("raw", "");

        const auto netns = tfo_bench::enter_private_netns(); // before any thread starts
        tfo_bench::loopback_server server(message_size);
        asio::io_context io(1);

        std::ofstream raw;
        if (!raw_path.empty())
        {
            raw.open(raw_path, std::ios::app);
            if (!raw)
                throw std::runtime_error("cannot open " + raw_path);
        }

        // Fetch the cookie and warm every path before measuring.
        for (variant v : all_variants)
            run(io, server.port(), v, 1, 0.2);

        for (int window : windows)
        {
            round_results results(static_cast<std::size_t>(rounds));
            for (int round = 0; round < rounds; ++round)
            {
                for (std::size_t k = 0; k < all_variants.size(); ++k)
                {
                    const variant v = all_variants[(k + static_cast<std::size_t>(round)) % all_variants.size()];
                    const result r = run(io, server.port(), v, window, slice);
                    results[static_cast<std::size_t>(round)][static_cast<std::size_t>(v)] = r;
                    if (raw)
                        raw << window << ',' << round << ',' << name(v) << ',' << r.completed << ','
                            << tfo_bench::fixed(slice, 2) << ',' << tfo_bench::fixed(r.rate, 1) << ','
                            << tfo_bench::fixed(r.client_cpu_us, 2) << ',' << tfo_bench::fixed(r.fastopen_fraction, 4)
                            << ',' << r.errors << '\n';
                }
            }
            summarise(window, results);
        }
        if (server.failed() != 0)
            std::cerr << "rate: the server saw " << server.failed() << " incomplete connections\n";
        return 0;
    }
    catch (const std::exception& e)
    {
        std::cerr << "rate: " << e.what() << '\n';
        return 1;
    }
}
