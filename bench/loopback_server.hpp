//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The server side of the loopback benchmarks (rate, cost): one thread, epoll,
// plain system calls. It is the same for every client variant, and as cheap
// as we can make it, so that differences between runs are the client's.
//
// Each connection: read `message_size` bytes, write as many back, close. The
// server closes first, like an HTTP/1.0 server, so that TIME_WAIT stays on the
// server's side and the client's ephemeral ports are free again at once.
//

#ifndef TFO_BENCH_LOOPBACK_SERVER_HPP
#define TFO_BENCH_LOOPBACK_SERVER_HPP

#include "bench_support.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cstdint>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tfo_bench {

class loopback_server
{
public:
    // `address` (host byte order) is where it listens: INADDR_ANY takes
    // connections to every address of 127/8, which `lo` routes locally, while
    // a listener on 127.0.0.1 refuses those to 127.1.2.3.
    explicit loopback_server(std::size_t message_size, std::uint32_t address = INADDR_LOOPBACK)
        : message_size_(message_size), reply_(message_size, 'r')
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (listener_ < 0)
            throw std::runtime_error(errno_text("socket"));
        const int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        // Fast Open for clients that want it; plain clients are unaffected.
        const int queue = 4096;
        if (::setsockopt(listener_, IPPROTO_TCP, TCP_FASTOPEN, &queue, sizeof queue) != 0)
            throw std::runtime_error(errno_text("setsockopt(TCP_FASTOPEN)"));
        sockaddr_in bound{};
        bound.sin_family = AF_INET;
        bound.sin_addr.s_addr = htonl(address);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0 ||
            ::listen(listener_, 4096) != 0)
            throw std::runtime_error(errno_text("bind/listen"));
        socklen_t length = sizeof bound;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &length);
        port_ = ntohs(bound.sin_port);

        stop_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (stop_ < 0 || epoll_ < 0)
            throw std::runtime_error(errno_text("eventfd/epoll_create1"));
        add(listener_);
        add(stop_);
        thread_ = std::thread([this] { run(); });
    }

    loopback_server(const loopback_server&) = delete;
    loopback_server& operator=(const loopback_server&) = delete;

    ~loopback_server()
    {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(stop_, &one, sizeof one);
        thread_.join();
        ::close(epoll_);
        ::close(stop_);
        ::close(listener_);
    }

    std::uint16_t port() const noexcept { return port_; }
    std::uint64_t served() const noexcept { return served_.load(std::memory_order_relaxed); }
    std::uint64_t failed() const noexcept { return failed_.load(std::memory_order_relaxed); }

private:
    void add(int fd)
    {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0)
            throw std::runtime_error(errno_text("epoll_ctl"));
    }

    void run()
    {
        std::vector<epoll_event> events(256);
        for (;;)
        {
            const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
            if (n < 0 && errno == EINTR)
                continue;
            for (int i = 0; i < n; ++i)
            {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                if (fd == stop_)
                    return;
                if (fd == listener_)
                    accept_all();
                else if (readable(fd))
                    ::close(fd); // also leaves the epoll set
            }
        }
    }

    void accept_all()
    {
        for (;;)
        {
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
                return; // EAGAIN, or an aborted connection: nothing to do
            if (static_cast<std::size_t>(fd) >= received_.size())
                received_.resize(static_cast<std::size_t>(fd) + 1024);
            received_[static_cast<std::size_t>(fd)] = 0;
            // With Fast Open the request is often there already.
            if (readable(fd))
                ::close(fd);
            else
                add(fd);
        }
    }

    // Returns true when the connection is finished and must be closed.
    bool readable(int fd)
    {
        char buffer[4096];
        std::size_t& received = received_[static_cast<std::size_t>(fd)];
        for (;;)
        {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n > 0)
            {
                received += static_cast<std::size_t>(n);
                if (received < message_size_)
                    continue;
                const ssize_t w = ::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
                if (w == static_cast<ssize_t>(reply_.size()))
                    served_.fetch_add(1, std::memory_order_relaxed);
                else
                    failed_.fetch_add(1, std::memory_order_relaxed);
                return true;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN)
                return false;
            failed_.fetch_add(1, std::memory_order_relaxed); // EOF or error before a whole request
            return true;
        }
    }

    std::size_t message_size_;
    std::vector<char> reply_;
    std::vector<std::size_t> received_;
    int listener_ = -1;
    int stop_ = -1;
    int epoll_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<std::uint64_t> served_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::thread thread_;
};

} // namespace tfo_bench

#endif
