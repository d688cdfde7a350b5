//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::fast_open_stream against real TCP Fast Open in private network
// namespaces: write first (the bytes in the SYN), read first (a server that
// speaks first), asio::ssl over it (the ClientHello in the SYN), Beast,
// several endpoints, timeouts and cancellation. Every TFO claim is checked on
// the kernel's evidence: TCP_INFO on both ends and the TcpExt counters.
//

#include <tfo/fast_open_stream.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include "completion.hpp"
#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/version.hpp>
#if BOOST_ASIO_VERSION >= 103100
#include <boost/asio/cancel_after.hpp>
#endif
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#if TFO_TEST_TLS
#include <boost/asio/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/x509.h>
#endif

#include <array>
#include <chrono>
#include <filesystem>
#include <thread>
#include <utility>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_fast_open_stream)

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
namespace ut = boost::unit_test;
using tfo::test::private_netns;
using tfo::test::completion;
using tfo::test::record;
using tfo::test::run_until;
using tfo::test::seconds_since;
using namespace std::chrono_literals;

namespace {

const std::string request = "GET /index.html HTTP/1.1\r\nHost: tfo.test\r\n\r\n";
const std::string greeting = "220 tfo.test ready\r\n";

// The server end of one accepted connection, with its evidence.
struct accepted
{
    std::optional<tcp::socket> socket;
    std::size_t readable_at_accept = 0;
    tfo::fast_open_info info;
};

void accept_one(tcp::acceptor& acceptor, accepted& out, std::function<void(tcp::socket&)> then = {})
{
    acceptor.async_accept([&out, then = std::move(then)](error_code ec, tcp::socket s) {
        BOOST_REQUIRE_MESSAGE(!ec, "accept: " << ec.message());
        out.readable_at_accept = s.available();
        out.info = tfo::get_fast_open_info(s);
        out.socket.emplace(std::move(s));
        if (then)
            then(*out.socket);
    });
}

// A connection whose client writes `request` through a fast_open_stream and
// whose server reads it: returns what the server read and the evidence.
struct write_first_result
{
    error_code ec;
    std::size_t written = 0;
    std::string received;
    accepted server;
    tfo::fast_open_info client;
    tfo::fast_open_counters counted;
};

template <typename Destination>
write_first_result write_first(asio::io_context& io, tcp::acceptor& acceptor, const Destination& destination)
{
    write_first_result r;
    const auto before = tfo::kernel_counters();
    accept_one(acceptor, r.server);
    tfo::fast_open_stream stream(io, destination);
    bool done = false;
    asio::async_write(stream, asio::buffer(request), [&](error_code ec, std::size_t n) {
        r.ec = ec;
        r.written = n;
        done = true;
    });
    run_until(io, [&] { return done && r.server.socket.has_value(); });
    if (!r.ec)
    {
        r.client = tfo::get_fast_open_info(stream); // through lowest_layer()
        r.received.resize(request.size());
        asio::read(*r.server.socket, asio::buffer(r.received));
    }
    r.counted = tfo::kernel_counters() - before;
    return r;
}

// Gets the namespace a cookie for the acceptor's port, and checks that it did.
void fetch_cookie(asio::io_context& io, tcp::acceptor& acceptor)
{
    auto first = write_first(io, acceptor, acceptor.local_endpoint());
    BOOST_REQUIRE(!first.ec);
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_TEST((first.client.failure == tfo::client_failure::cookie_unavailable));
    BOOST_TEST((first.received == request));
}

// A port on which nothing listens: connecting to it is refused.
tcp::endpoint closed_port(asio::io_context& io)
{
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 0);
    return acceptor.local_endpoint();
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(first_write_rides_in_the_syn)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fetch_cookie(io, acceptor);

    auto r = write_first(io, acceptor, acceptor.local_endpoint());
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(r.written == request.size());
    BOOST_TEST((r.received == request));
    BOOST_TEST(r.client.syn_data_acked);
    BOOST_TEST(r.server.info.syn_data_acked);
    BOOST_TEST(r.server.readable_at_accept >= request.size(), "the request was queued before the handshake ended");
    BOOST_TEST(r.counted.active == 1u);
    BOOST_TEST(r.counted.passive == 1u);
    BOOST_TEST(r.counted.cookie_reqd == 0u);
}

BOOST_AUTO_TEST_CASE(refused_first_endpoint_then_the_next)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fetch_cookie(io, acceptor);

    const std::vector<tcp::endpoint> endpoints{closed_port(io), acceptor.local_endpoint()};
    auto r = write_first(io, acceptor, endpoints);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST((r.received == request));
    BOOST_TEST(r.server.info.syn_data_acked, "the second endpoint got the request in its SYN");
    BOOST_TEST(r.counted.passive == 1u);
}

BOOST_AUTO_TEST_CASE(refused_connect_surfaces_at_the_first_operation)
{
    private_netns ns(3);
    asio::io_context io;
    const tcp::endpoint refused = closed_port(io);
    tfo::fast_open_stream stream(io, refused);
    error_code got;
    bool done = false;
    asio::async_write(stream, asio::buffer(request), [&](error_code ec, std::size_t n) {
        got = ec;
        BOOST_TEST(n == 0u);
        done = true;
    });
    run_until(io, [&] { return done; });
    BOOST_TEST((got == asio::error::connection_refused), got.message());
    BOOST_TEST(stream.connect_endpoint() == refused);
    BOOST_TEST(!stream.next_layer().is_open(), "the failed socket is closed");
    // Later operations report the same error and send nothing.
    std::array<char, 8> space;
    auto [ec, n] = std::make_tuple(error_code(), std::size_t(0));
    done = false;
    stream.async_read_some(asio::buffer(space), [&](error_code e, std::size_t k) {
        ec = e;
        n = k;
        done = true;
    });
    run_until(io, [&] { return done; });
    BOOST_TEST((ec == asio::error::connection_refused), ec.message());
    BOOST_TEST(!stream.next_layer().is_open());
}

// The trap of the option: with a cookie cached, connect() returns at once
// and the SYN waits for the first write, so a client that reads first waits
// forever. The stream connects for a first read instead.
BOOST_AUTO_TEST_CASE(server_speaks_first_with_a_cached_cookie)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fetch_cookie(io, acceptor);

    auto greet = [](tcp::socket& s) {
        asio::async_write(s, asio::buffer(greeting), [](error_code ec, std::size_t) { BOOST_TEST(!ec); });
    };

    // The stream: read first, then the client's request.
    {
        const auto before = tfo::kernel_counters();
        accepted server;
        accept_one(acceptor, server, greet);
        tfo::fast_open_stream stream(io, acceptor.local_endpoint());
        std::string line;
        error_code ec;
        bool done = false;
        asio::async_read_until(stream, asio::dynamic_buffer(line), "\r\n", [&](error_code e, std::size_t) {
            ec = e;
            done = true;
        });
        run_until(io, [&] { return done; });
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST((line == greeting));
        BOOST_TEST(stream.is_connected());
        const auto counted = tfo::kernel_counters() - before;
        // The SYN presented the cached cookie without data: the server made a
        // Fast Open child, and nothing asked for a new cookie.
        BOOST_TEST(counted.cookie_reqd == 0u);
        BOOST_TEST(counted.passive == 1u);
        BOOST_TEST(!tfo::get_fast_open_info(stream).syn_data_acked, "no data was in the SYN");
    }

    // The same client with the option instead: the read never completes.
    {
        accepted server;
        bool accepted_any = false;
        acceptor.async_accept([&](error_code, tcp::socket) { accepted_any = true; });
        tcp::socket socket(io);
        socket.open(tcp::v4());
        socket.set_option(tfo::fast_open_deferred_connect(true));
        socket.connect(acceptor.local_endpoint()); // returns at once: no SYN yet
        std::array<char, 64> space;
        bool read_done = false;
        socket.async_read_some(asio::buffer(space), [&](error_code, std::size_t) { read_done = true; });
        io.restart();
        io.run_for(300ms);
        BOOST_TEST(!accepted_any, "no SYN left: the option waits for a write");
        BOOST_TEST(!read_done);
        socket.close();
        acceptor.cancel();
        io.restart();
        io.run_for(50ms);
    }
}

// A full-duplex user can have a read and a write pending from the start:
// the write connects (its bytes in the SYN), the read waits for it.
BOOST_AUTO_TEST_CASE(concurrent_first_read_and_write)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fetch_cookie(io, acceptor);

    for (bool read_first : {true, false})
    {
        BOOST_TEST_CONTEXT("read started first: " << read_first)
        {
            const auto before = tfo::kernel_counters();
            accepted server;
            std::string echoed(request.size(), '\0');
            accept_one(acceptor, server, [&](tcp::socket& s) {
                // Echo the request once it has arrived.
                asio::async_read(s, asio::buffer(echoed), [&](error_code ec, std::size_t) {
                    BOOST_TEST(!ec);
                    asio::async_write(s, asio::buffer(echoed), [](error_code e, std::size_t) { BOOST_TEST(!e); });
                });
            });
            tfo::fast_open_stream stream(io, acceptor.local_endpoint());
            std::string reply(request.size(), '\0');
            error_code read_ec, write_ec;
            int done = 0;
            auto start_read = [&] {
                asio::async_read(stream, asio::buffer(reply), [&](error_code ec, std::size_t) {
                    read_ec = ec;
                    ++done;
                });
            };
            auto start_write = [&] {
                asio::async_write(stream, asio::buffer(request), [&](error_code ec, std::size_t) {
                    write_ec = ec;
                    ++done;
                });
            };
            if (read_first)
            {
                start_read();
                start_write();
            }
            else
            {
                start_write();
                start_read();
            }
            run_until(io, [&] { return done == 2; });
            BOOST_TEST(!read_ec, read_ec.message());
            BOOST_TEST(!write_ec, write_ec.message());
            BOOST_TEST((reply == request));
            const auto counted = tfo::kernel_counters() - before;
            BOOST_TEST(counted.passive == 1u);
            // Started first, the read made the connect: no data in the SYN.
            BOOST_TEST(server.info.syn_data_acked == !read_first);
            BOOST_TEST(counted.active == (read_first ? 0u : 1u));
        }
    }
}

namespace {

// Drops every SYN to `port`: a connect to it stays pending.
void blackhole_port(unsigned short port)
{
    private_netns::nft("table inet tfo_blackhole { chain input { type filter hook input priority 0; tcp dport " +
                       std::to_string(port) + " tcp flags & (syn | ack) == syn drop; }; }");
}

void lift_blackhole()
{
    BOOST_REQUIRE(private_netns::run("nft delete table inet tfo_blackhole") == 0);
}

// The process's open descriptors: nothing may be left behind.
std::size_t open_descriptors()
{
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

// After everything completed, io.run() must return: no operation or timer
// is left behind.
void expect_nothing_pending(asio::io_context& io)
{
    io.restart();
    const auto start = std::chrono::steady_clock::now();
    io.run_for(5s);
    BOOST_TEST(seconds_since(start) < 4.0, "io_context still had work: an operation or timer was left pending");
}

} // namespace

// The connect to a blackholed server ends at the stream's expiry, far
// before the kernel would give up (about two minutes of SYN retries).
BOOST_AUTO_TEST_CASE(timeout_against_a_blackholed_server)
{
    private_netns ns(3);
    const std::size_t descriptors = open_descriptors();
    {
        asio::io_context io;
        auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
        const auto target = acceptor.local_endpoint();
        blackhole_port(target.port());

        for (bool read_first : {false, true})
        {
            BOOST_TEST_CONTEXT("first operation is a " << (read_first ? "read" : "write"))
            {
                tfo::fast_open_stream stream(io, target);
                stream.expires_after(500ms);
                completion c;
                std::array<char, 16> space;
                if (read_first)
                    stream.async_read_some(asio::buffer(space), record(c));
                else
                    asio::async_write(stream, asio::buffer(request), record(c));
                run_until(io, [&] { return c.done; }, 10s);
                BOOST_TEST((c.ec == asio::error::timed_out), c.ec.message());
                BOOST_TEST((c.ec == std::errc::timed_out));
                BOOST_TEST(c.seconds >= 0.45);
                BOOST_TEST(c.seconds < 1.5, "ended by the stream's expiry, not by the kernel");
                BOOST_TEST(c.n == 0u);
                BOOST_TEST(!stream.next_layer().is_open(), "the socket is closed");
                BOOST_TEST(stream.connect_endpoint() == target);
                // The stream stays failed with the same error.
                completion later;
                stream.async_write_some(asio::buffer(request), record(later));
                run_until(io, [&] { return later.done; });
                BOOST_TEST((later.ec == asio::error::timed_out), later.ec.message());
            }
        }

        // Several endpoints, all blackholed: the expiry covers the whole sequence.
        auto second = tfo::test::make_listener(io, tcp::v4(), 16);
        blackhole_port(second.local_endpoint().port());
        const std::vector<tcp::endpoint> both{target, second.local_endpoint()};
        tfo::fast_open_stream stream(io, both);
        stream.expires_after(400ms);
        completion c;
        asio::async_write(stream, asio::buffer(request), record(c));
        run_until(io, [&] { return c.done; }, 10s);
        BOOST_TEST((c.ec == asio::error::timed_out), c.ec.message());
        BOOST_TEST(c.seconds < 1.5);
        BOOST_TEST(stream.connect_endpoint() == target, "the endpoint being tried when the expiry came");
        acceptor.close();
        second.close();
        expect_nothing_pending(io);
    }
    BOOST_TEST(open_descriptors() == descriptors, "every socket was closed");
}

// A server that accepts and never answers: the read after the connect times out.
BOOST_AUTO_TEST_CASE(timeout_of_a_read_after_the_connect)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    accepted server;
    accept_one(acceptor, server);
    tfo::fast_open_stream stream(io, acceptor.local_endpoint());
    stream.expires_after(300ms);
    std::array<char, 16> space;
    completion c;
    stream.async_read_some(asio::buffer(space), record(c));
    run_until(io, [&] { return c.done; });
    BOOST_TEST((c.ec == asio::error::timed_out), c.ec.message());
    BOOST_TEST(c.seconds >= 0.25);
    BOOST_TEST(c.seconds < 2.0);
    BOOST_TEST(server.socket.has_value(), "the connect itself succeeded");
    BOOST_TEST(!stream.next_layer().is_open());

    // expires_never: a later stream's read waits as long as it takes.
    accepted server2;
    accept_one(acceptor, server2, [](tcp::socket& s) {
        auto timer = std::make_shared<asio::steady_timer>(s.get_executor(), 400ms);
        timer->async_wait([&s, timer](error_code) { asio::write(s, asio::buffer(greeting)); });
    });
    tfo::fast_open_stream patient(io, acceptor.local_endpoint());
    patient.expires_after(100ms);
    patient.expires_never();
    completion c2;
    patient.async_read_some(asio::buffer(space), record(c2));
    run_until(io, [&] { return c2.done; });
    BOOST_TEST(!c2.ec, c2.ec.message());
    BOOST_TEST(c2.seconds >= 0.35);
}

// Per-operation cancellation in each stage: connecting, waiting for the other
// direction's connect, and transferring after the connect.
BOOST_AUTO_TEST_CASE(cancellation_at_each_stage)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    const auto target = acceptor.local_endpoint();

    BOOST_TEST_CONTEXT("terminal, while the first write connects")
    {
        blackhole_port(target.port());
        tfo::fast_open_stream stream(io, target);
        asio::cancellation_signal signal;
        completion c;
        asio::async_write(stream, asio::buffer(request), asio::bind_cancellation_slot(signal.slot(), record(c)));
        io.restart();
        io.run_for(100ms);
        BOOST_TEST(!c.done);
        signal.emit(asio::cancellation_type::terminal);
        run_until(io, [&] { return c.done; });
        BOOST_TEST((c.ec == asio::error::operation_aborted), c.ec.message());
        BOOST_TEST(c.seconds < 1.0, "the cancellation, not the SYN retry, ended it");
        BOOST_TEST(!stream.next_layer().is_open());
        lift_blackhole();
    }

    BOOST_TEST_CONTEXT("partial, while the first read connects: the connect goes on")
    {
        blackhole_port(target.port());
        accepted server;
        accept_one(acceptor, server);
        tfo::fast_open_stream stream(io, target);
        asio::cancellation_signal signal;
        std::array<char, 16> space;
        completion c;
        stream.async_read_some(asio::buffer(space), asio::bind_cancellation_slot(signal.slot(), record(c)));
        io.restart();
        io.run_for(100ms);
        signal.emit(asio::cancellation_type::partial);
        io.run_for(100ms);
        BOOST_TEST(!c.done, "partial cancellation does not interrupt a connect");
        lift_blackhole(); // the SYN retransmitted after 1 s gets through
        run_until(io, [&] { return c.done; });
        BOOST_TEST((c.ec == asio::error::operation_aborted), c.ec.message());
        BOOST_TEST(c.n == 0u);
        BOOST_TEST(stream.is_connected(), "connected, nothing read");
        run_until(io, [&] { return server.socket.has_value(); });
        asio::write(*server.socket, asio::buffer(greeting));
        std::string line;
        asio::read_until(stream, asio::dynamic_buffer(line), "\r\n");
        BOOST_TEST((line == greeting));
    }

    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                      asio::cancellation_type::total})
    {
        BOOST_TEST_CONTEXT("type " << static_cast<int>(type) << ", while a read waits for the write's connect")
        {
            blackhole_port(target.port());
            accepted server;
            accept_one(acceptor, server);
            tfo::fast_open_stream stream(io, target);
            completion w, r;
            asio::async_write(stream, asio::buffer(request), record(w));
            asio::cancellation_signal signal;
            std::array<char, 16> space;
            stream.async_read_some(asio::buffer(space), asio::bind_cancellation_slot(signal.slot(), record(r)));
            io.restart();
            io.run_for(100ms);
            signal.emit(type);
            run_until(io, [&] { return r.done; });
            BOOST_TEST((r.ec == asio::error::operation_aborted), r.ec.message());
            BOOST_TEST(!w.done, "the write's connect goes on");
            lift_blackhole();
            run_until(io, [&] { return w.done; });
            BOOST_TEST(!w.ec, w.ec.message());
            BOOST_TEST(w.n == request.size());
        }
    }

    BOOST_TEST_CONTEXT("partial, total and terminal while reading after the connect")
    {
        accepted server;
        accept_one(acceptor, server);
        tfo::fast_open_stream stream(io, target);
        stream.expires_after(10s); // the composed path, not the socket's own
        asio::async_write(stream, asio::buffer(request), [](error_code ec, std::size_t) { BOOST_TEST(!ec); });
        run_until(io, [&] { return stream.is_connected() && server.socket.has_value(); });
        for (auto type : {asio::cancellation_type::partial, asio::cancellation_type::total,
                          asio::cancellation_type::terminal})
        {
            asio::cancellation_signal signal;
            std::array<char, 16> space;
            completion r;
            stream.async_read_some(asio::buffer(space), asio::bind_cancellation_slot(signal.slot(), record(r)));
            io.restart();
            io.run_for(20ms);
            signal.emit(type);
            run_until(io, [&] { return r.done; });
            BOOST_TEST((r.ec == asio::error::operation_aborted), r.ec.message());
        }
        BOOST_TEST(stream.is_connected());
    }

    BOOST_TEST_CONTEXT("stream.cancel() and destroying the stream while connecting")
    {
        blackhole_port(target.port());
        completion a, b;
        {
            tfo::fast_open_stream stream(io, target);
            asio::async_write(stream, asio::buffer(request), record(a));
            io.restart();
            io.run_for(50ms);
            stream.cancel();
            run_until(io, [&] { return a.done; });
            tfo::fast_open_stream doomed(io, target);
            doomed.expires_after(10s);
            asio::async_write(doomed, asio::buffer(request), record(b));
            io.restart();
            io.run_for(50ms);
        }
        run_until(io, [&] { return b.done; });
        BOOST_TEST((a.ec == asio::error::operation_aborted), a.ec.message());
        BOOST_TEST((b.ec == asio::error::operation_aborted), b.ec.message());
        lift_blackhole();
    }
    acceptor.close();
    expect_nothing_pending(io);
}

// The stream in a coroutine, with a timeout on the connect and the exchange.
BOOST_AUTO_TEST_CASE(coroutine)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fetch_cookie(io, acceptor);
    accepted server;
    accept_one(acceptor, server, [](tcp::socket& s) {
        auto data = std::make_shared<std::string>(request.size(), '\0');
        asio::async_read(s, asio::buffer(*data), [&s, data](error_code ec, std::size_t) {
            BOOST_TEST(!ec);
            asio::async_write(s, asio::buffer(*data), [data](error_code, std::size_t) {});
        });
    });
    std::string reply;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tfo::fast_open_stream stream(co_await asio::this_coro::executor, acceptor.local_endpoint());
            stream.expires_after(5s);
            co_await asio::async_write(stream, asio::buffer(request), asio::use_awaitable);
            reply.resize(request.size());
            co_await asio::async_read(stream, asio::buffer(reply), asio::use_awaitable);
            BOOST_TEST(tfo::get_fast_open_info(stream).syn_data_acked);
        },
        [&](std::exception_ptr e) {
            BOOST_TEST(!e);
            done = true;
        });
    run_until(io, [&] { return done; });
    BOOST_TEST((reply == request));
    BOOST_TEST(server.info.syn_data_acked);
}

// The synchronous forms: the first write_some is the fast-open connect.
BOOST_AUTO_TEST_CASE(synchronous)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fetch_cookie(io, acceptor);
    const auto before = tfo::kernel_counters();
    const std::vector<tcp::endpoint> endpoints{closed_port(io), acceptor.local_endpoint()};
    tfo::fast_open_stream stream(io, endpoints);
    BOOST_TEST(asio::write(stream, asio::buffer(request)) == request.size());
    BOOST_TEST(stream.connect_endpoint() == acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    BOOST_TEST(tfo::get_fast_open_info(std::as_const(server)).syn_data_acked);
    std::string got(request.size(), '\0');
    asio::read(server, asio::buffer(got));
    BOOST_TEST((got == request));
    asio::write(server, asio::buffer(greeting));
    std::string line;
    asio::read_until(stream, asio::dynamic_buffer(line), "\r\n");
    BOOST_TEST((line == greeting));
    BOOST_TEST((tfo::kernel_counters() - before).passive == 1u);

    // Read first, synchronously, to a server that speaks first.
    tfo::fast_open_stream reader(io, acceptor.local_endpoint());
    std::thread greeter([&] {
        tcp::socket s = acceptor.accept();
        asio::write(s, asio::buffer(greeting));
    });
    std::string line2;
    asio::read_until(reader, asio::dynamic_buffer(line2), "\r\n");
    greeter.join();
    BOOST_TEST((line2 == greeting));
}

// Beast over the stream, as a Beast user writes it: resolver results whose
// first endpoint refuses, a timeout, http::async_write and http::async_read.
BOOST_AUTO_TEST_CASE(beast_http_get_through_resolver_results)
{
    namespace http = boost::beast::http;
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    const std::string port = std::to_string(acceptor.local_endpoint().port());
    const std::vector<tcp::endpoint> listed{closed_port(io), acceptor.local_endpoint()};
    // What a resolver returns for a name with two addresses, the first one dead.
    const auto results = tcp::resolver::results_type::create(listed.begin(), listed.end(), "tfo.test", port);

    auto serve = [](tcp::socket& s) {
        auto buffer = std::make_shared<boost::beast::flat_buffer>();
        auto request = std::make_shared<http::request<http::string_body>>();
        http::async_read(s, *buffer, *request, [&s, buffer, request](error_code ec, std::size_t) {
            BOOST_REQUIRE_MESSAGE(!ec, "server read: " << ec.message());
            auto response = std::make_shared<http::response<http::string_body>>(http::status::ok, 11);
            response->body() = "hello " + std::string(request->target());
            response->prepare_payload();
            http::async_write(s, *response, [response](error_code e, std::size_t) { BOOST_TEST(!e); });
        });
    };

    for (int i = 0; i < 2; ++i)
    {
        BOOST_TEST_CONTEXT("connection " << i + 1)
        {
            const auto before = tfo::kernel_counters();
            accepted server;
            accept_one(acceptor, server, serve);
            tfo::fast_open_stream stream(io, results);
            stream.expires_after(5s);
            http::request<http::empty_body> request{http::verb::get, "/stream", 11};
            request.set(http::field::host, "tfo.test");
            http::response<http::string_body> response;
            boost::beast::flat_buffer buffer;
            bool done = false;
            http::async_write(stream, request, [&](error_code ec, std::size_t) {
                BOOST_REQUIRE_MESSAGE(!ec, "write: " << ec.message());
                http::async_read(stream, buffer, response, [&](error_code e, std::size_t) {
                    BOOST_TEST(!e, e.message());
                    done = true;
                });
            });
            run_until(io, [&] { return done; });
            BOOST_TEST(response.result_int() == 200u);
            BOOST_TEST(response.body() == "hello /stream");
            BOOST_TEST(stream.connect_endpoint() == acceptor.local_endpoint(), "the second endpoint");
            const auto counted = tfo::kernel_counters() - before;
            if (i == 0)
            {
                BOOST_TEST(counted.cookie_reqd == 1u);
                BOOST_TEST(!server.info.syn_data_acked);
            }
            else
            {
                BOOST_TEST(server.info.syn_data_acked, "the GET rode in the SYN");
                BOOST_TEST(counted.passive == 1u);
                BOOST_TEST(counted.active == 1u);
                BOOST_TEST(server.readable_at_accept > 0u);
            }
        }
    }
}

// Beast's operations forward their handler's cancellation slot (terminal):
// cancelling an http::async_read ends the stream's read beneath it.
BOOST_AUTO_TEST_CASE(beast_operation_cancelled)
{
    namespace http = boost::beast::http;
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    accepted server;
    accept_one(acceptor, server); // accepts, never answers
    tfo::fast_open_stream stream(io, acceptor.local_endpoint());
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    asio::cancellation_signal signal;
    completion c;
    http::async_read(stream, buffer, response, asio::bind_cancellation_slot(signal.slot(), record(c)));
    run_until(io, [&] { return stream.is_connected() && server.socket.has_value(); });
    io.run_for(20ms);
    BOOST_TEST(!c.done);
    signal.emit(asio::cancellation_type::terminal);
    run_until(io, [&] { return c.done; });
    BOOST_TEST((c.ec == asio::error::operation_aborted), c.ec.message());
}

#if BOOST_ASIO_VERSION >= 103100
// Newer Asio (Boost 1.86+) has cancel_after: terminal cancellation after a
// delay, which stops the connect too. Beast 1.81's initiations have no
// executor, so its operations need the form with an explicit timer.
BOOST_AUTO_TEST_CASE(cancel_after_stops_a_blackholed_connect)
{
    namespace http = boost::beast::http;
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    blackhole_port(acceptor.local_endpoint().port());
    {
        tfo::fast_open_stream stream(io, acceptor.local_endpoint());
        completion c;
        stream.async_write_some(asio::buffer(request), asio::cancel_after(300ms, record(c)));
        run_until(io, [&] { return c.done; });
        BOOST_TEST((c.ec == asio::error::operation_aborted), c.ec.message());
        BOOST_TEST(c.seconds < 1.0);
    }
    {
        tfo::fast_open_stream stream(io, acceptor.local_endpoint());
        asio::steady_timer timer(io);
        http::request<http::empty_body> get{http::verb::get, "/", 11};
        completion c;
        http::async_write(stream, get, asio::cancel_after(timer, 300ms, record(c)));
        run_until(io, [&] { return c.done; });
        BOOST_TEST((c.ec == asio::error::operation_aborted), c.ec.message());
        BOOST_TEST(c.seconds < 1.0);
    }
    acceptor.close();
    expect_nothing_pending(io);
}
#endif

#if TFO_TEST_TLS

namespace {

namespace ssl = asio::ssl;

// A throwaway self-signed certificate for the test server.
struct test_certificate
{
    test_certificate()
    {
        key = EVP_EC_gen("P-256");
        BOOST_REQUIRE(key);
        cert = X509_new();
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), 0);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tfo.test"), -1,
                                   -1, 0);
        X509_set_issuer_name(cert, name);
        BOOST_REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    }
    ~test_certificate()
    {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    test_certificate(const test_certificate&) = delete;
    test_certificate& operator=(const test_certificate&) = delete;

    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
};

ssl::context server_context(const test_certificate& c)
{
    ssl::context ctx(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
    BOOST_REQUIRE(SSL_CTX_use_certificate(ctx.native_handle(), c.cert) == 1);
    BOOST_REQUIRE(SSL_CTX_use_PrivateKey(ctx.native_handle(), c.key) == 1);
    SSL_CTX_set_num_tickets(ctx.native_handle(), 0); // every handshake a full one
    return ctx;
}

ssl::context client_context()
{
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
    ctx.set_verify_mode(ssl::verify_none); // the certificate is not what this test is about
    return ctx;
}

// One TLS exchange: the server echoes a line. Returns the server's evidence.
struct tls_result
{
    accepted server;
    tfo::fast_open_info client;
    tfo::fast_open_counters counted;
    std::string reply;
};

tls_result tls_exchange(asio::io_context& io, tcp::acceptor& acceptor, ssl::context& sctx, ssl::context& cctx)
{
    tls_result r;
    const auto before = tfo::kernel_counters();
    std::optional<ssl::stream<tcp::socket&>> server_tls;
    std::string server_line;
    accept_one(acceptor, r.server, [&](tcp::socket& s) {
        server_tls.emplace(s, sctx);
        server_tls->async_handshake(ssl::stream_base::server, [&](error_code ec) {
            BOOST_REQUIRE_MESSAGE(!ec, "server handshake: " << ec.message());
            asio::async_read_until(*server_tls, asio::dynamic_buffer(server_line), '\n',
                                   [&](error_code e, std::size_t) {
                                       BOOST_TEST(!e);
                                       asio::async_write(*server_tls, asio::buffer(server_line),
                                                         [](error_code, std::size_t) {});
                                   });
        });
    });

    ssl::stream<tfo::fast_open_stream> tls(tfo::fast_open_stream(io, acceptor.local_endpoint()), cctx);
    bool done = false;
    tls.async_handshake(ssl::stream_base::client, [&](error_code ec) {
        BOOST_REQUIRE_MESSAGE(!ec, "client handshake: " << ec.message());
        r.client = tfo::get_fast_open_info(tls); // ssl::stream -> lowest_layer()
        static const std::string line = "hello over tls\n";
        asio::async_write(tls, asio::buffer(line), [&](error_code e, std::size_t) {
            BOOST_REQUIRE(!e);
            asio::async_read_until(tls, asio::dynamic_buffer(r.reply), '\n', [&](error_code e2, std::size_t) {
                BOOST_TEST(!e2);
                done = true;
            });
        });
    });
    run_until(io, [&] { return done; });
    r.counted = tfo::kernel_counters() - before;
    tls.next_layer().close();
    return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(ssl_stream_client_hello_rides_in_the_syn)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    test_certificate cert;
    auto sctx = server_context(cert);
    auto cctx = client_context();

    auto first = tls_exchange(io, acceptor, sctx, cctx);
    BOOST_TEST(first.reply == "hello over tls\n");
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_TEST(!first.server.info.syn_data_acked);

    auto second = tls_exchange(io, acceptor, sctx, cctx);
    BOOST_TEST(second.reply == "hello over tls\n");
    BOOST_TEST(second.server.info.syn_data_acked, "the server accepted data in the SYN");
    BOOST_TEST(second.client.syn_data_acked);
    BOOST_TEST(second.counted.passive == 1u);
    BOOST_TEST(second.counted.active == 1u);
    // A TLS 1.3 ClientHello is a few hundred bytes; it was queued before the handshake ended.
    BOOST_TEST(second.server.readable_at_accept >= 200u);
}

#endif // TFO_TEST_TLS

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_fast_open_stream
