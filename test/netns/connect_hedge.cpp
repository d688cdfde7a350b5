//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The hedged connect against real middleboxes (nftables in the test's private
// namespace): a fast-open SYN with no answer after the hedge delay races a
// plain connect on a second socket; the first established carries the
// request, and the user's socket holds it. Checked on kernel evidence and on
// time bounds far from the 1 s retransmission timeout.

#include <tfo/path_memory.hpp>

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <tuple>
#include <mutex>
#include <string>
#include <thread>
#include <functional>
#include <memory>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_hedge)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds since(steady::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

struct hedged : fast_open_listener
{
    tfo::path_memory& memory = asio::use_service<tfo::path_memory>(io);
};


} // namespace

BOOST_AUTO_TEST_SUITE(hedge, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

// (a) with the hedge: the first connection to lose its SYN data is bounded
// by the hedge delay, not the 1 s timeout; the user's socket holds the
// hedge's connection and the request arrives once, on it.
BOOST_FIXTURE_TEST_CASE(syns_with_data_dropped, hedged)
{
    fastopen_once(acceptor, request); // the cookie, and an RTT sample: the delay is the 20 ms floor
    drop_syns_with_data();
    const auto start = steady::now();
    auto o = fastopen_once(acceptor, request);
    const auto took = since(start);
    expect_delivered(o, request);
    expect_no_tfo(o);
    BOOST_TEST((took < 300ms), "bounded by the hedge: " << took.count() << " ms");
    BOOST_TEST((o.client.failure == tfo::client_failure::unspecified), "the user's socket holds the plain connection");
    BOOST_TEST((o.client.state == tfo::tcp_state::established));
    const auto c = memory.counters();
    BOOST_TEST(c.hedges_started == 1u);
    BOOST_TEST(c.hedges_won == 1u);
    BOOST_TEST(c.losses == 1u);
    BOOST_TEST(!memory.state(acceptor.local_endpoint()).fast_open);
    BOOST_TEST(private_netns::run("nft list table ip tfo_middlebox | grep -q 'packets 1 '") == 0,
               "the fast-open SYN was dropped, and never sent again");

    // Connections 2 and on: plain, fast, no hedge.
    for (int i = 0; i < 3; ++i)
    {
        const auto t = steady::now();
        auto p = fastopen_once(acceptor, request);
        expect_delivered(p, request);
        expect_no_tfo(p);
        BOOST_TEST((since(t) < 300ms));
    }
    BOOST_TEST(memory.counters().hedges_started == 1u);
}

// (b) with the hedge: the first connection's cookie request is dropped.
BOOST_FIXTURE_TEST_CASE(fast_open_syns_dropped, hedged)
{
    drop_fast_open_syns();
    const std::string payload = random_bytes(3000, 9); // more than a SYN carries
    const auto start = steady::now();
    auto o = fastopen_once(acceptor, payload);
    const auto took = since(start);
    expect_delivered(o, payload);
    expect_no_tfo(o);
    BOOST_TEST((took < 700ms), "bounded by the default delay (no RTT known): " << took.count() << " ms");
    BOOST_TEST(memory.counters().hedges_won == 1u);
    const auto t = steady::now();
    expect_delivered(fastopen_once(acceptor, payload), payload);
    BOOST_TEST((since(t) < 300ms));
}

// A hedge timer that runs late, on a busy io_context, after the SYN's answer
// came in: no second connection. The loop is blocked past the 20 ms delay
// while the SYN-ACK arrives, so that both are ready when it wakes.
BOOST_FIXTURE_TEST_CASE(no_hedge_when_the_answer_is_in, hedged)
{
    fastopen_once(acceptor, request); // the cookie: the next SYN carries data, not confirmed yet
    tcp::socket client(io);
    boost::system::error_code result = asio::error::would_block;
    asio::post(io, [&] {
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                    [&](boost::system::error_code ec, std::size_t) { result = ec; });
        std::this_thread::sleep_for(100ms); // the loop polls nothing until the answer and the timer are both in
    });
    io.restart();
    io.run_for(5s);
    BOOST_TEST(!result, result.message());
    BOOST_TEST(memory.counters().hedges_started == 0u);
    BOOST_TEST(tfo::get_fast_open_info(client).syn_data_acked);
    // One connection waits in the listener's queue, not two.
    acceptor.non_blocking(true);
    boost::system::error_code first, second;
    tcp::socket one = acceptor.accept(first);
    tcp::socket two = acceptor.accept(second);
    BOOST_TEST(!first, first.message());
    BOOST_TEST((second == asio::error::would_block), second.message());
}

// Cancelled while the hedge races: both sockets stop, nothing was delivered.
BOOST_FIXTURE_TEST_CASE(cancelled_during_the_race, hedged)
{
    fastopen_once(acceptor, request);
    // Both the fast-open SYN and the hedge's plain SYN go unanswered.
    blackhole_port(acceptor.local_endpoint().port());
    tcp::socket client(io);
    asio::cancellation_signal signal;
    boost::system::error_code result;
    std::size_t written = 99;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                asio::bind_cancellation_slot(signal.slot(),
                                                             [&](boost::system::error_code ec, std::size_t n) {
                                                                 result = ec;
                                                                 written = n;
                                                             }));
    asio::steady_timer timer(io, 150ms); // after the 20 ms hedge delay
    timer.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
    const auto start = steady::now();
    io.restart();
    io.run();
    BOOST_TEST((result == asio::error::operation_aborted), result.message());
    BOOST_TEST(written == 0u);
    BOOST_TEST((since(start) < 700ms));
    BOOST_TEST(memory.counters().hedges_started == 1u);
    BOOST_TEST(memory.counters().hedges_won == 0u);
}

// The handler's executor (a strand) runs the completion on every path the
// operation ends by: a first contact (the kernel's table read after a post,
// the hedge armed and not needed), a hedge that won (the race's group, the
// adoption), a sequence that moved on after a refusal (a plain connect's
// completion), and an error found before any wait (posted). An operation
// that answered Asio's executor query with the socket's executor would run
// the handler outside the strand.
BOOST_FIXTURE_TEST_CASE(the_handlers_executor_on_every_path, hedged)
{
    auto strand = asio::make_strand(io);
    struct ended
    {
        int calls = 0;
        bool on_strand = false;
        boost::system::error_code ec;
        std::size_t bytes = 0;
    };
    auto on_strand = [&](ended& e) {
        return asio::bind_executor(strand, [&e, &strand](boost::system::error_code ec, auto&&... rest) {
            ++e.calls;
            e.on_strand = strand.running_in_this_thread();
            e.ec = ec;
            e.bytes = std::get<sizeof...(rest) - 1>(std::forward_as_tuple(rest...)); // the count is last
        });
    };
    // Runs until the handler was called, closes the client's side, then
    // until the server read everything.
    auto finish = [&](ended& e, tcp::socket& client) {
        io.restart();
        while (e.calls == 0 && io.run_one() != 0)
        {
        }
        boost::system::error_code ignored;
        client.shutdown(tcp::socket::shutdown_send, ignored);
        io.run();
        BOOST_TEST(e.calls == 1);
        BOOST_TEST(e.on_strand);
    };

    {
        sink server{acceptor};
        server.start();
        tcp::socket client(io);
        ended e;
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request), on_strand(e));
        finish(e, client);
        BOOST_TEST(!e.ec, e.ec.message());
        BOOST_TEST(e.bytes == request.size());
        BOOST_TEST(server.received == request);
        BOOST_TEST(memory.counters().kernel_reads == 1u, "read after the post");
    }
    drop_syns_with_data();
    {
        sink server{acceptor};
        server.start();
        tcp::socket client(io);
        ended e;
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request), on_strand(e));
        finish(e, client);
        BOOST_TEST(!e.ec, e.ec.message());
        BOOST_TEST(e.bytes == request.size());
        BOOST_TEST(server.received == request);
        BOOST_TEST(memory.counters().hedges_won == 1u, "the hedge won");
    }
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    {
        ended e;
        const std::vector<tcp::endpoint> endpoints{closed_port(io), acceptor.local_endpoint()};
        tfo::async_fastopen_connect(client, endpoints, asio::buffer(request), on_strand(e));
        finish(e, client);
        BOOST_TEST(!e.ec, e.ec.message());
        BOOST_TEST(e.bytes == request.size());
        BOOST_TEST(server.received == request);
        BOOST_TEST(!memory.state(acceptor.local_endpoint()).fast_open, "a plain connect there now");
    }
    {
        ended e;
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request), on_strand(e));
        io.restart();
        io.run();
        BOOST_TEST(e.calls == 1);
        BOOST_TEST(e.on_strand);
        BOOST_TEST((e.ec == asio::error::already_connected), e.ec.message());
        BOOST_TEST(e.bytes == 0u);
    }
}

// (g) Many connections at once to one destination that drops fast-open SYNs,
// from several threads: every request arrives once, the first wave is
// bounded by the hedge, the second is plain. Run under TSan too.
BOOST_FIXTURE_TEST_CASE(many_threads_one_blackholed_destination, hedged)
{
    drop_fast_open_syns();
    constexpr int per_wave = 12;
    std::atomic<int> accepted{0};
    std::mutex received_mutex;
    std::vector<std::string> received;

    // The server: its own io_context, on its own thread.
    asio::io_context server_io;
    tcp::acceptor server(server_io);
    server = tfo::test::make_listener(server_io, tcp::v4(), 16);
    const tcp::endpoint destination = server.local_endpoint();
    std::function<void()> accept_one = [&] {
        server.async_accept([&](boost::system::error_code ec, tcp::socket s) {
            if (ec)
                return;
            ++accepted;
            auto socket = std::make_shared<tcp::socket>(std::move(s));
            auto buffer = std::make_shared<std::string>();
            asio::async_read(*socket, asio::dynamic_buffer(*buffer),
                             [&, socket, buffer](boost::system::error_code, std::size_t) {
                                 std::lock_guard lock(received_mutex);
                                 received.push_back(*buffer);
                             });
            accept_one();
        });
    };
    accept_one();
    std::thread server_thread([&] { server_io.run(); });

    // One client io_context run by four threads: one path memory for both waves.
    asio::io_context client_io;
    auto& m = asio::use_service<tfo::path_memory>(client_io);
    std::vector<std::unique_ptr<tcp::socket>> sockets;
    auto wave = [&] {
        std::atomic<int> ok{0};
        for (int i = 0; i < per_wave; ++i)
        {
            sockets.push_back(std::make_unique<tcp::socket>(client_io));
            auto& s = *sockets.back();
            tfo::async_fastopen_connect(s, destination, asio::buffer(request),
                                        [&](boost::system::error_code ec, std::size_t n) {
                                            if (!ec && n == request.size())
                                                ++ok;
                                            s.shutdown(tcp::socket::shutdown_send, ec);
                                        });
        }
        const auto start = steady::now();
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] { client_io.run(); });
        for (auto& t : threads)
            t.join();
        client_io.restart();
        BOOST_TEST(ok.load() == per_wave);
        return since(start);
    };
    const auto first = wave();
    BOOST_TEST((first < 800ms), "every connection bounded by the hedge: " << first.count() << " ms");
    auto c = m.counters();
    BOOST_TEST(c.attempts == static_cast<std::uint64_t>(per_wave));
    BOOST_TEST(c.hedges_won == static_cast<std::uint64_t>(per_wave), "no answer to any fast-open SYN");
    BOOST_TEST(!m.state(destination).fast_open);

    const auto second = wave();
    BOOST_TEST((second < 300ms), "plain, no hedge: " << second.count() << " ms");
    c = m.counters();
    BOOST_TEST(c.plain == static_cast<std::uint64_t>(per_wave));
    BOOST_TEST(c.hedges_started == static_cast<std::uint64_t>(per_wave));

    // Wait for the server to read every connection to its end.
    const auto deadline = steady::now() + 10s;
    for (;;)
    {
        {
            std::lock_guard lock(received_mutex);
            if (received.size() >= static_cast<std::size_t>(2 * per_wave) || steady::now() > deadline)
                break;
        }
        std::this_thread::sleep_for(10ms);
    }
    server_io.stop();
    server_thread.join();
    std::lock_guard lock(received_mutex);
    std::size_t complete = 0;
    for (const auto& r : received)
        complete += r == request ? 1 : 0;
    BOOST_TEST(complete == static_cast<std::size_t>(2 * per_wave), "every request once, whole");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_hedge
