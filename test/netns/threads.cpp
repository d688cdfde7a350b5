//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Several threads on one io_context, each connection on its own strand:
// async_fastopen_connect from many threads at once. CI also runs this under
// ThreadSanitizer.

#include <tfo/async_fastopen_connect.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/system.hpp>

#include "echo_server.hpp"
#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_threads)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;

namespace {

struct shared_results
{
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::atomic<int> next{0};
};

// One client on its own strand; when done, starts the next until `total`.
void start_client(asio::io_context& io, tcp::endpoint server, int total, shared_results& r)
{
    const int i = r.next++;
    if (i >= total)
        return;
    struct state
    {
        explicit state(asio::io_context& io) : socket(asio::make_strand(io)) {}
        tcp::socket socket;
        std::string sent, echo;
    };
    auto s = std::make_shared<state>(io);
    s->sent = tfo::test::pattern(static_cast<std::size_t>(i % 17) * 4000, static_cast<std::uint64_t>(i));
    tfo::async_fastopen_connect(
        s->socket, server, asio::buffer(s->sent), [&io, server, total, &r, s](boost::system::error_code ec, std::size_t) {
            if (ec)
            {
                ++r.failed;
                return start_client(io, server, total, r);
            }
            s->socket.shutdown(tcp::socket::shutdown_send, ec);
            asio::async_read(s->socket, asio::dynamic_buffer(s->echo),
                             [&io, server, total, &r, s](boost::system::error_code ec, std::size_t) {
                                 if (ec == asio::error::eof && s->echo == s->sent)
                                     ++r.ok;
                                 else
                                     ++r.failed;
                                 start_client(io, server, total, r);
                             });
        });
}

} // namespace

BOOST_AUTO_TEST_SUITE(threads, *ut::precondition(tfo::test::netns_available) * ut::timeout(300))

BOOST_AUTO_TEST_CASE(many_threads_one_io_context)
{
    tfo::netns::private_netns ns(3);
    asio::io_context io(4);
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 1024);
    acceptor.listen(1024);
    tfo::test::raw_connect_once(io, acceptor, "warm-up"); // a cookie for 127.0.0.1
    io.restart();
    tfo::test::echo_stats stats;
    tfo::test::start_echo_server(acceptor, stats);

    constexpr int total = 1000;
    const auto before = tfo::kernel_counters();
    shared_results results;
    for (int i = 0; i < 50; ++i)
        start_client(io, acceptor.local_endpoint(), total, results);

    auto work = asio::make_work_guard(io);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&io] { io.run(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (results.ok + results.failed < total && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    asio::post(acceptor.get_executor(), [&] { acceptor.close(); });
    work.reset();
    io.stop();
    for (auto& t : threads)
        t.join();

    BOOST_TEST(results.ok.load() == total);
    BOOST_TEST(results.failed.load() == 0);
    // Data in the SYN, on the kernel's evidence: TCP_INFO of each accepted
    // socket agrees with the clients' TCPFastOpenActive. Every 17th client
    // sends nothing: its SYN carries a cookie but no data, which the server
    // counts as TCPFastOpenPassive all the same.
    const auto counted = tfo::kernel_counters() - before;
    const std::uint64_t with_data = total - (total + 16) / 17;
    BOOST_TEST(stats.with_data_in_syn.load() == counted.active);
    BOOST_TEST(counted.active >= with_data * 9 / 10);
    BOOST_TEST(counted.passive >= counted.active);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_threads
