//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Load: thousands of async_fastopen_connect calls against a TFO echo server,
// every byte checked, in tcp_fastopen modes 1, 3 and 3 + no-cookie.
// TFO_STRESS_CONNECTIONS sets the count (default 10000).

#include <tfo/async_fastopen_connect.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/path_memory.hpp>
#include <tfo/system.hpp>

#include "echo_server.hpp"
#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <functional>
#include <memory>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_stress)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;

namespace {

struct load_result
{
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t mismatched = 0;
    std::uint64_t bytes = 0;
};

// Keeps `concurrency` clients in flight until `total` have run. Client i sends
// pattern(size_i, i), closes its sending side, and checks that the echo is
// the same bytes, once each, in order.
class load
{
public:
    load(asio::io_context& io, tcp::endpoint server, std::size_t total, std::size_t concurrency,
         std::size_t max_payload)
        : io_(io), server_(server), total_(total), concurrency_(concurrency), max_payload_(max_payload)
    {
    }

    load_result run(std::function<void()> done)
    {
        done_ = std::move(done);
        for (std::size_t i = 0; i < concurrency_ && next_ < total_; ++i)
            start_one();
        io_.run();
        return result_;
    }

private:
    struct client
    {
        explicit client(asio::io_context& io) : socket(io) {}
        tcp::socket socket;
        std::string sent;
        std::string echo;
    };

    std::size_t payload_size(std::size_t i) const
    {
        // Uniform in 0..max: most do not fit in one SYN, so both the SYN data
        // and the writes after it are exercised.
        std::uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 32;
        return h % (max_payload_ + 1);
    }

    void start_one()
    {
        const std::size_t i = next_++;
        auto c = std::make_shared<client>(io_);
        c->sent = tfo::test::pattern(payload_size(i), i);
        tfo::async_fastopen_connect(c->socket, server_, asio::buffer(c->sent),
                                    [this, c](boost::system::error_code ec, std::size_t n) {
                                        if (ec || n != c->sent.size())
                                            return finish(c, false);
                                        c->socket.shutdown(tcp::socket::shutdown_send, ec);
                                        asio::async_read(c->socket, asio::dynamic_buffer(c->echo),
                                                         [this, c](boost::system::error_code ec, std::size_t) {
                                                             finish(c, ec == asio::error::eof);
                                                         });
                                    });
    }

    void finish(const std::shared_ptr<client>& c, bool ok)
    {
        if (!ok)
            ++result_.failed;
        else if (c->echo != c->sent)
            ++result_.mismatched;
        else
        {
            ++result_.completed;
            result_.bytes += c->sent.size();
        }
        if (next_ < total_)
            start_one();
        else if (result_.completed + result_.failed + result_.mismatched == total_)
            done_();
    }

    asio::io_context& io_;
    tcp::endpoint server_;
    std::size_t total_, concurrency_, max_payload_;
    std::size_t next_ = 0;
    load_result result_;
    std::function<void()> done_;
};

std::size_t connections_to_run()
{
    const char* v = std::getenv("TFO_STRESS_CONNECTIONS");
    return v ? std::strtoul(v, nullptr, 10) : 10000;
}

void run_mode(int mode)
{
    tfo::netns::private_netns ns(mode);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 4096);
    acceptor.listen(4096);
    tfo::test::echo_stats stats;
    tfo::test::start_echo_server(acceptor, stats);

    const std::size_t total = connections_to_run();
    const auto before = tfo::kernel_counters();
    const auto t0 = std::chrono::steady_clock::now();
    load driver(io, acceptor.local_endpoint(), total, 200, 256 * 1024);
    // Closing the listener once every client is done lets run() return.
    const auto result = driver.run([&] { acceptor.close(); });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto counted = tfo::kernel_counters() - before;
    const auto hedges = asio::use_service<tfo::path_memory>(io).counters().hedges_started;

    std::cout << "mode " << mode << ": " << result.completed << "/" << total << " connections, " << result.bytes
              << " bytes checked, " << counted.passive << " with data in the SYN, " << hedges << " hedges, "
              << seconds << " s\n";
    BOOST_TEST(result.completed == total);
    BOOST_TEST(result.failed == 0u);
    BOOST_TEST(result.mismatched == 0u);
    // A hedge (a plain connect racing a SYN that the loaded client had not
    // seen answered in time) may reach the server as one more connection.
    BOOST_TEST(stats.connections.load() >= total);
    BOOST_TEST(stats.connections.load() <= total + hedges);
    if (mode & 2)
        BOOST_TEST(counted.passive >= total * 9 / 10, "most connections were fast-open");
    else
        BOOST_TEST(counted.passive == 0u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(stress, *ut::precondition(tfo::test::netns_available) * ut::timeout(600))

BOOST_AUTO_TEST_CASE(client_only_mode_1)
{
    run_mode(1);
}

BOOST_AUTO_TEST_CASE(both_mode_3)
{
    run_mode(3);
}

BOOST_AUTO_TEST_CASE(no_cookie_mode_0x207)
{
    run_mode(0x207);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_stress
