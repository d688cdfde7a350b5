//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-link: an emulated wide-area link between two private network namespaces.
//
// The kernel here has no netem qdisc, so the delay is made in user space: each
// namespace gets a TUN device, and this process relays packets between the two
// TUN descriptors, holding each one for rtt/2 before delivering it. See
// README.md for the design, the usage and the measured accuracy.
//

#include "children.hpp"
#include "link_end.hpp"
#include "options.hpp"
#include "relay.hpp"
#include "system_error.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace tfo::link {
namespace {

// How often readiness and the deadlines are checked.
constexpr std::int64_t control_tick_ns = 10'000'000;

timespec to_timespec(std::int64_t ns)
{
    timespec t{};
    t.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    t.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return t;
}

std::int64_t seconds_to_ns(double s)
{
    return std::llround(s * 1e9);
}

// A descriptor owned by the run.
class descriptor
{
public:
    explicit descriptor(int fd, const char* what) : fd_(fd)
    {
        if (fd_ < 0)
            throw_errno(what);
    }
    ~descriptor() { ::close(fd_); }
    descriptor(const descriptor&) = delete;
    descriptor& operator=(const descriptor&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

// Arms `timer` to fire at the absolute time `at_ns`, every tick when `periodic`.
void arm(const descriptor& timer, std::int64_t at_ns, bool periodic = false)
{
    itimerspec when{};
    when.it_value = to_timespec(at_ns);
    if (periodic)
        when.it_interval = to_timespec(control_tick_ns);
    if (::timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &when, nullptr) != 0)
        throw_errno("timerfd_settime");
}

void drain(const descriptor& timer)
{
    std::uint64_t expirations;
    while (::read(timer.get(), &expirations, sizeof expirations) > 0)
    {
    }
}

// One run: both ends, the relay, the two children, until the client is done.
class link_run
{
public:
    explicit link_run(const options& o)
        : options_(o), started_(now_ns()), client_(client_end, o.fastopen, false, o.verbose),
          server_(server_end, o.fastopen, o.ready_port != 0, o.verbose),
          signals_(block_relay_signals(), "signalfd"),
          deliver_timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create"),
          control_timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create"),
          events_(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"),
          relay_(client_.tun(), server_.tun(), o.rtt_ms, o.loss, o.seed)
    {
        for (const int fd : {client_.tun(), server_.tun(), signals_.get(), deliver_timer_.get(), control_timer_.get()})
            watch(fd);
        arm(control_timer_, now_ns() + control_tick_ns, true);
        if (::pipe2(lifeline_, O_CLOEXEC) != 0)
            throw_errno("pipe2");
        export_addresses();
    }

    ~link_run()
    {
        // Closing the TUN and namespace descriptors (members) destroys both
        // namespaces: no process is left in them, each init's death killed
        // its whole PID namespace.
        ::close(lifeline_[0]);
        ::close(lifeline_[1]);
    }

    /// Runs the children to the end; returns tfo-link's exit status.
    int run()
    {
        // Everything a child must not keep.
        const std::vector<int> relay_fds{client_.namespace_handle(), server_.namespace_handle(), client_.tun(),
                                         server_.tun(), signals_.get(), deliver_timer_.get(), control_timer_.get(),
                                         events_.get(), lifeline_[1], server_.diag()};
        server_spec_ = {options_.server_command.c_str(), server_.namespace_handle(), true, lifeline_[0],
                        lifeline_[1], &relay_fds};
        client_spec_ = {options_.client_command.c_str(), client_.namespace_handle(), false, lifeline_[0],
                        lifeline_[1], &relay_fds};
        deadline_ = started_ + seconds_to_ns(options_.timeout_s);
        ready_deadline_ = now_ns() + seconds_to_ns(options_.ready_timeout_s);
        server_pid_ = spawn_child(server_spec_);
        if (options_.ready_port == 0)
            start_client();

        while (server_pid_ > 0 || client_pid_ > 0)
        {
            wait_and_dispatch();
            if (const auto next = relay_.deliver_due(); next && *next != armed_)
            {
                arm(deliver_timer_, *next);
                armed_ = *next;
            }
        }
        if (options_.verbose)
            print_statistics();
        return exit_code_;
    }

private:
    enum class phase
    {
        waiting_for_server,
        running,
        stopping
    };

    static int block_relay_signals()
    {
        const sigset_t signals = relay_signals();
        if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0)
            throw_errno("sigprocmask");
        return ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    }

    void watch(int fd)
    {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        if (::epoll_ctl(events_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
            throw_errno("epoll_ctl");
    }

    void export_addresses() const
    {
        ::setenv("TFO_LINK_SERVER_ADDR", server_end.local_v4, 1);
        ::setenv("TFO_LINK_CLIENT_ADDR", client_end.local_v4, 1);
        ::setenv("TFO_LINK_RTT_MS", options_.rtt_text.c_str(), 1);
        if (client_.has_ipv6() && server_.has_ipv6())
        {
            ::setenv("TFO_LINK_SERVER_ADDR6", server_end.local_v6, 1);
            ::setenv("TFO_LINK_CLIENT_ADDR6", client_end.local_v6, 1);
        }
    }

    void start_client()
    {
        client_pid_ = spawn_child(client_spec_);
        phase_ = phase::running;
    }

    void signal_children(int signal) const
    {
        if (server_pid_ > 0)
            ::kill(server_pid_, signal);
        if (client_pid_ > 0)
            ::kill(client_pid_, signal);
    }

    // SIGTERM now, SIGKILL after the grace period; `code` is the exit status.
    void begin_stop(int code)
    {
        if (phase_ == phase::stopping)
            return;
        phase_ = phase::stopping;
        exit_code_ = code;
        signal_children(SIGTERM);
        kill_at_ = now_ns() + seconds_to_ns(options_.grace_s);
    }

    void say(const std::string& line) const { std::cerr << "tfo-link: " << line << std::endl; }

    void wait_and_dispatch()
    {
        epoll_event ready[8];
        const int n = ::epoll_wait(events_.get(), ready, 8, -1);
        if (n < 0)
        {
            if (errno == EINTR)
                return;
            throw_errno("epoll_wait");
        }
        const std::int64_t woke = now_ns();
        for (int i = 0; i < n; ++i)
        {
            const int fd = ready[i].data.fd;
            if (fd == client_.tun())
                relay_.read(relay_.directions()[0]);
            else if (fd == server_.tun())
                relay_.read(relay_.directions()[1]);
            else if (fd == deliver_timer_.get())
            {
                drain(deliver_timer_);
                if (armed_ > 0)
                    relay_.note_wake_latency(woke - armed_);
                armed_ = -1;
            }
            else if (fd == control_timer_.get())
            {
                drain(control_timer_);
                on_tick();
            }
            else if (fd == signals_.get())
                on_signals();
        }
    }

    void on_signals()
    {
        signalfd_siginfo info;
        while (::read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info))
        {
            const int signal = static_cast<int>(info.ssi_signo);
            if (signal == SIGCHLD)
                continue; // reaped below
            if (phase_ == phase::stopping)
            {
                signal_children(SIGKILL); // asked twice: no more grace
                killed_ = true;
            }
            else
            {
                say(std::string("received ") + ::strsignal(signal) + ", stopping");
                begin_stop(128 + signal);
            }
        }
        // Reap whatever has exited (SIGCHLD may be coalesced).
        int status = 0;
        pid_t reaped;
        while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0)
        {
            if (reaped == client_pid_)
            {
                client_pid_ = 0;
                if (options_.verbose)
                    say("client exited with status " + std::to_string(exit_status(status)));
                begin_stop(exit_status(status));
            }
            else if (reaped == server_pid_)
            {
                server_pid_ = 0;
                if (phase_ == phase::waiting_for_server)
                {
                    say("server exited with status " + std::to_string(exit_status(status)) +
                        " before listening on port " + std::to_string(options_.ready_port));
                    begin_stop(1);
                }
                else if (phase_ == phase::running && options_.verbose)
                    say("server exited with status " + std::to_string(exit_status(status)));
            }
        }
    }

    void on_tick()
    {
        const std::int64_t now = now_ns();
        if (phase_ == phase::waiting_for_server)
        {
            if (server_.listening(options_.ready_port))
            {
                if (options_.verbose)
                {
                    std::ostringstream text;
                    text << "server listening on port " << options_.ready_port << " after " << std::fixed
                         << std::setprecision(1) << static_cast<double>(now - started_) / 1e6 << " ms";
                    say(text.str());
                }
                start_client();
            }
            else if (now >= ready_deadline_)
            {
                std::ostringstream text;
                text << "server did not listen on TCP port " << options_.ready_port << " within "
                     << options_.ready_timeout_s << " s";
                say(text.str());
                begin_stop(1);
            }
        }
        if (phase_ != phase::stopping && now >= deadline_)
        {
            std::ostringstream text;
            text << "timeout: run exceeded " << options_.timeout_s << " s, killing server and client";
            say(text.str());
            begin_stop(124);
        }
        if (phase_ == phase::stopping && !killed_ && now >= kill_at_)
        {
            signal_children(SIGKILL);
            killed_ = true;
        }
    }

    void print_statistics()
    {
        for (const direction& d : relay_.directions())
            d.print_statistics(std::cerr);
        std::cerr << "tfo-link: timer wake-up latency estimate at exit: "
                  << static_cast<double>(relay_.wake_estimate_ns()) / 1e3 << " us\n";
    }

    const options& options_;
    const std::int64_t started_;
    link_end client_;
    link_end server_;
    descriptor signals_;
    descriptor deliver_timer_;
    descriptor control_timer_;
    descriptor events_;
    relay relay_;
    int lifeline_[2] = {-1, -1};
    child_spec server_spec_{};
    child_spec client_spec_{};

    phase phase_ = phase::waiting_for_server;
    pid_t server_pid_ = 0;
    pid_t client_pid_ = 0;
    int exit_code_ = 1;
    std::int64_t deadline_ = 0;
    std::int64_t ready_deadline_ = 0;
    std::int64_t kill_at_ = 0;
    std::int64_t armed_ = -1;
    bool killed_ = false;
};

} // namespace
} // namespace tfo::link

int main(int argc, char** argv)
{
    using namespace tfo::link;
    try
    {
        const auto parsed = parse_options(argc, argv);
        if (!parsed)
        {
            print_usage(std::cout);
            return 0;
        }
        link_run run(*parsed);
        return run.run();
    }
    catch (const usage_error& e)
    {
        print_usage(std::cerr);
        std::cerr << "tfo-link: " << e.what() << '\n';
        return 1;
    }
    catch (const std::exception& e)
    {
        std::cerr << "tfo-link: " << e.what() << '\n';
        return 1;
    }
}
