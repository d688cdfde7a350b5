//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// One scenario, four paths: tfo::async_fastopen_connect and tfo::fastopen_connect
// over an endpoint sequence, and tfo::fast_open_stream's first operation,
// asynchronous and synchronous (write first, and read first). Users mix
// them, so every path must give the same outcome: the same error, the same
// endpoint, the same byte count, and nothing sent to an endpoint the
// connect should not have reached. Each run is in its own namespace.

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/fast_open_stream.hpp>

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_paths)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;
using namespace std::chrono_literals;

enum class path
{
    connect_async,      // tfo::async_fastopen_connect, endpoint sequence
    connect_sync,       // tfo::fastopen_connect, endpoint sequence
    stream_write_async, // fast_open_stream: async_write_some first
    stream_write_sync,  // fast_open_stream: write_some first
    stream_read_async,  // fast_open_stream: async_read_some first (connects without data)
    stream_read_sync    // fast_open_stream: read_some first
};

const char* name(path p)
{
    switch (p)
    {
    case path::connect_async:
        return "async_fastopen_connect";
    case path::connect_sync:
        return "fastopen_connect";
    case path::stream_write_async:
        return "stream async_write_some";
    case path::stream_write_sync:
        return "stream write_some";
    case path::stream_read_async:
        return "stream async_read_some";
    case path::stream_read_sync:
        return "stream read_some";
    }
    return "?";
}

bool reads_first(path p)
{
    return p == path::stream_read_async || p == path::stream_read_sync;
}

const path every_path[] = {path::connect_async,      path::connect_sync,     path::stream_write_async,
                           path::stream_write_sync,  path::stream_read_async, path::stream_read_sync};

struct result
{
    boost::system::error_code ec;
    tcp::endpoint endpoint; // the connect's: where it was established (the stream: last tried)
    std::size_t bytes = 0;  // written (read, for a read first)
};

const std::string greeting = "hello";

// Accepts, from another thread, every connection to `acceptors` for a
// bounded time, and greets each with `greeting` (a read-first client
// waits for it; the synchronous paths block the test's thread).
class greeter
{
public:
    explicit greeter(std::vector<tcp::acceptor*> acceptors) : acceptors_(std::move(acceptors))
    {
        for (auto* a : acceptors_)
            a->non_blocking(true);
        thread_ = std::thread([this] { run(); });
    }

    ~greeter()
    {
        stop_ = true;
        thread_.join();
    }

    // Connections accepted on acceptor `i` (its requests are not read).
    std::size_t accepted(std::size_t i) const { return accepted_[i].load(); }

private:
    void run()
    {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!stop_ && std::chrono::steady_clock::now() < deadline)
        {
            for (std::size_t i = 0; i < acceptors_.size(); ++i)
            {
                boost::system::error_code ec;
                tcp::socket s = acceptors_[i]->accept(ec);
                if (ec)
                    continue;
                ++accepted_[i];
                s.non_blocking(false);
                asio::write(s, asio::buffer(greeting), ec);
                kept_.push_back(std::move(s)); // closed when the greeter goes
            }
            std::this_thread::sleep_for(2ms);
        }
    }

    std::vector<tcp::acceptor*> acceptors_;
    std::array<std::atomic<std::size_t>, 4> accepted_{};
    std::vector<tcp::socket> kept_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Runs the first operation of path `p` over `endpoints` with `data` (empty
// for a read first), on a socket opened beforehand as `open_as` if given.
result run(path p, asio::io_context& io, const std::vector<tcp::endpoint>& endpoints, const std::string& data,
           std::optional<tcp> open_as = std::nullopt)
{
    result r;
    bool done = false;
    std::array<char, 64> space{};
    const auto finish = [&](boost::system::error_code ec, std::size_t n) {
        r.ec = ec;
        r.bytes = n;
        done = true;
    };
    switch (p)
    {
    case path::connect_async:
    case path::connect_sync:
    {
        tcp::socket socket(io);
        if (open_as)
            socket.open(*open_as);
        if (p == path::connect_sync)
        {
            const auto [endpoint, n] = tfo::fastopen_connect(socket, endpoints, asio::buffer(data), r.ec);
            r.endpoint = endpoint;
            r.bytes = n;
            return r;
        }
        tfo::async_fastopen_connect(socket, endpoints, asio::buffer(data),
                                    [&](boost::system::error_code ec, tcp::endpoint endpoint, std::size_t n) {
                                        r.endpoint = endpoint;
                                        finish(ec, n);
                                    });
        io.restart();
        io.run_for(10s);
        BOOST_TEST_REQUIRE(done);
        return r;
    }
    default:
    {
        tfo::fast_open_stream stream(io, endpoints);
        if (open_as)
            stream.next_layer().open(*open_as);
        switch (p)
        {
        case path::stream_write_sync:
            r.bytes = stream.write_some(asio::buffer(data), r.ec);
            break;
        case path::stream_read_sync:
            r.bytes = stream.read_some(asio::buffer(space), r.ec);
            break;
        case path::stream_write_async:
            stream.async_write_some(asio::buffer(data), finish);
            break;
        default:
            stream.async_read_some(asio::buffer(space), finish);
            break;
        }
        if (p == path::stream_write_async || p == path::stream_read_async)
        {
            io.restart();
            io.run_for(10s);
            BOOST_TEST_REQUIRE(done);
        }
        r.endpoint = stream.connect_endpoint();
        return r;
    }
    }
}

// Path `p` over `endpoints` connects to `expected`, and its first
// operation transfers everything: the request, or the server's greeting.
void expect_connected(path p, asio::io_context& io, const std::vector<tcp::endpoint>& endpoints,
                      const tcp::endpoint& expected, std::optional<tcp> open_as = std::nullopt)
{
    const result r = run(p, io, endpoints, reads_first(p) ? std::string() : request, open_as);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(r.endpoint == expected);
    BOOST_TEST(r.bytes == (reads_first(p) ? greeting.size() : request.size()));
}

BOOST_AUTO_TEST_SUITE(paths, *ut::precondition(tfo::test::netns_available) * ut::timeout(120))

// The first endpoint refuses: every path moves on to the second, connects
// there, and says so.
BOOST_AUTO_TEST_CASE(a_refused_endpoint_moves_the_sequence_on)
{
    for (const path p : every_path)
    {
        BOOST_TEST_CONTEXT(name(p))
        {
            private_netns ns(3);
            asio::io_context io;
            auto good = make_listener(io, tcp::v4(), 16);
            greeter server({&good});
            expect_connected(p, io, {closed_port(io), good.local_endpoint()}, good.local_endpoint());
        }
    }
}

// The user opened the socket as IPv4; the sequence starts with an IPv6
// endpoint. A sequence reopens the socket for each endpoint's family: every
// path connects to [::1], none skips it.
BOOST_AUTO_TEST_CASE(a_socket_of_another_family_is_reopened)
{
    for (const path p : every_path)
    {
        BOOST_TEST_CONTEXT(name(p))
        {
            private_netns ns(3);
            asio::io_context io;
            auto v6 = make_listener(io, tcp::v6(), 16);
            auto v4 = make_listener(io, tcp::v4(), 16);
            greeter server({&v6, &v4});
            expect_connected(p, io, {v6.local_endpoint(), v4.local_endpoint()}, v6.local_endpoint(), tcp::v4());
        }
    }
}

// The first endpoint establishes the connection and resets it at once (a
// rule answers the client's final ACK with a reset). Once a connection was
// established the sequence ends: every path reports the reset and the first
// endpoint, counts what the SYN delivered, and never reaches the second.
BOOST_AUTO_TEST_CASE(a_reset_after_the_handshake_ends_the_sequence)
{
    for (const bool cookie : {false, true})
    {
        for (const path p : every_path)
        {
            BOOST_TEST_CONTEXT(name(p) << (cookie ? ", data in the SYN" : ", first contact"))
            {
                private_netns ns(3);
                asio::io_context io;
                auto first = make_listener(io, tcp::v4(), 16);
                auto second = make_listener(io, tcp::v4(), 16);
                if (cookie)
                    fastopen_once(first, request); // a cookie for 127.0.0.1
                private_netns::nft("table inet tfo_reset { chain input { type filter hook input priority 0; "
                                   "tcp dport " +
                                   std::to_string(first.local_endpoint().port()) +
                                   " tcp flags & (syn | ack | fin | rst) == ack counter reject with tcp reset; }; }");
                const std::vector<tcp::endpoint> endpoints{first.local_endpoint(), second.local_endpoint()};
                const auto before = tfo::kernel_counters();
                std::size_t reached_second = 0;
                result r;
                {
                    greeter server({&first, &second});
                    r = run(p, io, endpoints, reads_first(p) ? std::string() : request);
                    std::this_thread::sleep_for(50ms); // a connection to the second would be in by now
                    reached_second = server.accepted(1);
                }
                const bool data_in_syn = cookie && !reads_first(p);
                BOOST_TEST((r.ec == asio::error::connection_reset), r.ec.message());
                BOOST_TEST(r.endpoint == first.local_endpoint());
                BOOST_TEST(r.bytes == (data_in_syn ? request.size() : 0u));
                BOOST_TEST(reached_second == 0u, "the second endpoint was never contacted");
                // With a cookie cached, the kernel sends it in the SYN even
                // with no data (a read first), and the server accepts it.
                BOOST_TEST((tfo::kernel_counters() - before).passive == (cookie ? 1u : 0u),
                           "the kernel's evidence: a fast-open SYN accepted where a cookie was cached");
                BOOST_TEST(private_netns::run("nft list table inet tfo_reset | grep -q 'packets [1-9]'") == 0,
                           "the rule answered the final ACK");
            }
        }
    }
}

// Every endpoint refuses: every path reports the last one's error and no
// established endpoint (the stream names the last one tried).
BOOST_AUTO_TEST_CASE(every_endpoint_refuses)
{
    for (const path p : every_path)
    {
        BOOST_TEST_CONTEXT(name(p))
        {
            private_netns ns(3);
            asio::io_context io;
            const std::vector<tcp::endpoint> endpoints{closed_port(io), closed_port(io)};
            const result r = run(p, io, endpoints, reads_first(p) ? std::string() : request);
            BOOST_TEST((r.ec == asio::error::connection_refused), r.ec.message());
            BOOST_TEST(r.bytes == 0u);
            const bool stream = p != path::connect_async && p != path::connect_sync;
            BOOST_TEST(r.endpoint == (stream ? endpoints.back() : tcp::endpoint()));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_paths
