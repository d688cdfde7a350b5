//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::fast_open_stream under the layers users put over it, and the
// timeout rules of its header in both directions: asio::ssl's zero-length
// read while a timed read is pending, Beast's WebSocket stream (its
// teardown customization points, the Upgrade request in the SYN, a close
// that times out), and which operation gets timed_out and which
// operation_aborted when one direction's timer ends the stream.

#include <tfo/fast_open_stream.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/fast_open_info.hpp>
#include <tfo/multipath.hpp>
#include <tfo/system.hpp>

#include "completion.hpp"
#include "connect_fixture.hpp"
#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#if TFO_TEST_TLS
#include "tls_identity.hpp"
#include <boost/asio/ssl.hpp>
#endif

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_stream_layers)

namespace asio = boost::asio;
using tfo::test::rethrow;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;
namespace ut = boost::unit_test;
using tfo::test::private_netns;
using tfo::test::blackhole_port;
using tfo::test::completion;
using tfo::test::record;
using tfo::test::run_until;
using namespace std::chrono_literals;
using tfo::test::request;

namespace {

// A WebSocket server on a plain socket: accepts, echoes one message, then
// either answers the client's close or (`answer_close` false) keeps the
// connection open without a word.
asio::awaitable<void> websocket_echo(tcp::acceptor& acceptor, bool answer_close, tfo::fast_open_info& info,
                                     std::string& upgrade_seen, tfo::multipath_info* path = nullptr)
{
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    info = tfo::get_fast_open_info(socket);
    if (path)
        *path = tfo::get_multipath_info(socket);
    websocket::stream<tcp::socket> ws(std::move(socket));
    beast::flat_buffer buffer;
    beast::http::request<beast::http::empty_body> upgrade;
    co_await beast::http::async_read(ws.next_layer(), buffer, upgrade, asio::use_awaitable);
    upgrade_seen = std::string(upgrade.target());
    co_await ws.async_accept(upgrade, asio::use_awaitable);
    beast::flat_buffer message;
    co_await ws.async_read(message, asio::use_awaitable);
    ws.text(true);
    co_await ws.async_write(message.data(), asio::use_awaitable);
    if (!answer_close)
    {
        // Read the close frame at the TCP level and say nothing.
        std::array<char, 64> sink;
        co_await ws.next_layer().async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
        asio::steady_timer hold(ws.get_executor(), 3s);
        co_await hold.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return;
    }
    message.clear();
    auto [ec, n] = co_await ws.async_read(message, asio::as_tuple(asio::use_awaitable));
    BOOST_TEST((ec == websocket::error::closed), ec.message());
}

} // namespace

BOOST_AUTO_TEST_SUITE(layers, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

// WebSocket over the stream, asynchronously: on a repeat connection the
// Upgrade request rides in the SYN; a message goes both ways; the close
// handshake ends in the stream's async_teardown. Over TCP, then over
// Multipath TCP at both ends.
void websocket_async_over(bool multipath)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16, multipath);
    for (int round = 0; round < 2; ++round)
    {
        BOOST_TEST_CONTEXT("connection " << round + 1)
        {
            const auto before = tfo::kernel_counters();
            tfo::fast_open_info server_info;
            tfo::multipath_info server_path;
            std::string upgrade;
            asio::co_spawn(io, websocket_echo(acceptor, true, server_info, upgrade, &server_path), rethrow);
            std::string echoed;
            bool closed = false;
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    websocket::stream<tfo::fast_open_stream> ws(co_await asio::this_coro::executor,
                                                                acceptor.local_endpoint());
                    if (multipath)
                        BOOST_REQUIRE(tfo::open_multipath(ws.next_layer(), tcp::v4()).multipath);
                    co_await ws.async_handshake("tfo.test", "/chat", asio::use_awaitable);
                    co_await ws.async_write(asio::buffer(std::string("hello")), asio::use_awaitable);
                    beast::flat_buffer buffer;
                    co_await ws.async_read(buffer, asio::use_awaitable);
                    echoed = beast::buffers_to_string(buffer.data());
                    co_await ws.async_close(websocket::close_code::normal, asio::use_awaitable);
                    closed = !ws.next_layer().next_layer().is_open();
                },
                rethrow);
            run_until(io, [&] { return closed; });
            BOOST_TEST(echoed == "hello");
            BOOST_TEST(upgrade == "/chat");
            BOOST_TEST(server_path.active == multipath);
            const auto counted = tfo::kernel_counters() - before;
            if (round == 0)
                BOOST_TEST(counted.cookie_reqd == 1u);
            else
            {
                BOOST_TEST(server_info.syn_data_acked, "the Upgrade request rode in the SYN");
                BOOST_TEST(counted.passive == 1u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(websocket_async)
{
    websocket_async_over(false);
}

BOOST_AUTO_TEST_CASE(websocket_async_multipath)
{
    websocket_async_over(true);
}

// The same with the synchronous calls: the stream's write_some connects,
// and ws.close() ends in the stream's teardown.
BOOST_AUTO_TEST_CASE(websocket_sync)
{
    private_netns ns(3);
    asio::io_context server_io;
    auto acceptor = tfo::test::make_listener(server_io, tcp::v4(), 16);
    tfo::fast_open_info server_info;
    std::string upgrade;
    asio::co_spawn(server_io, websocket_echo(acceptor, true, server_info, upgrade), rethrow);
    std::thread server([&] { server_io.run_for(10s); });

    asio::io_context io;
    websocket::stream<tfo::fast_open_stream> ws(io, acceptor.local_endpoint());
    ws.handshake("tfo.test", "/sync");
    ws.write(asio::buffer(std::string("sync hello")));
    beast::flat_buffer buffer;
    ws.read(buffer);
    ws.close(websocket::close_code::normal);
    server.join();
    BOOST_TEST(beast::buffers_to_string(buffer.data()) == "sync hello");
    BOOST_TEST(upgrade == "/sync");
    BOOST_TEST(!ws.next_layer().next_layer().is_open(), "teardown closed the socket");
}

// A peer that never answers the close: the WebSocket's own close timeout
// ends it, and the socket is closed.
BOOST_AUTO_TEST_CASE(websocket_close_times_out)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    tfo::fast_open_info server_info;
    std::string upgrade;
    asio::co_spawn(io, websocket_echo(acceptor, false, server_info, upgrade), [](std::exception_ptr) {});
    websocket::stream<tfo::fast_open_stream> ws(io, acceptor.local_endpoint());
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = 500ms; // Beast times the close handshake with it
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    bool handshaken = false;
    ws.async_handshake("tfo.test", "/", [&](error_code ec) {
        BOOST_REQUIRE(!ec);
        ws.async_write(asio::buffer(std::string("x")), [&](error_code ec, std::size_t) {
            BOOST_REQUIRE(!ec);
            handshaken = true;
        });
    });
    run_until(io, [&] { return handshaken; });
    beast::flat_buffer buffer;
    completion echoed;
    ws.async_read(buffer, record(echoed));
    run_until(io, [&] { return echoed.done; });
    std::optional<error_code> closed;
    const auto start = std::chrono::steady_clock::now();
    ws.async_close(websocket::close_code::normal, [&](error_code ec) { closed = ec; });
    run_until(io, [&] { return closed.has_value(); });
    BOOST_TEST((*closed == beast::error::timeout), closed->message());
    BOOST_TEST((std::chrono::steady_clock::now() - start < 2s));
    BOOST_TEST(!ws.next_layer().next_layer().is_open());
}

// A timeout ends the stream: the operation whose timer fired gets
// timed_out, the other direction's operation_aborted, also when the timed
// operation only waits for a connect the other one makes.
BOOST_AUTO_TEST_CASE(the_other_direction_is_aborted)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    blackhole_port(acceptor.local_endpoint().port());
    for (const bool write_connects : {true, false})
    {
        BOOST_TEST_CONTEXT((write_connects ? "a write" : "a read") << " without a timeout connects")
        {
            tfo::fast_open_stream stream(io, acceptor.local_endpoint());
            completion read, write;
            std::array<char, 16> space;
            if (write_connects)
                stream.async_write_some(asio::buffer(request), record(write));
            else
                stream.async_read_some(asio::buffer(space), record(read));
            stream.expires_after(300ms); // the direction with nothing pending
            if (write_connects)
                stream.async_read_some(asio::buffer(space), record(read));
            else
                stream.async_write_some(asio::buffer(request), record(write));
            run_until(io, [&] { return read.done && write.done; });
            completion& timed = write_connects ? read : write;
            completion& other = write_connects ? write : read;
            BOOST_TEST((timed.ec == asio::error::timed_out), timed.ec.message());
            BOOST_TEST((other.ec == asio::error::operation_aborted), other.ec.message());
            BOOST_TEST(timed.n == 0u);
            BOOST_TEST(other.n == 0u);
        }
    }
}

// A connect made by the timed operation itself: it gets timed_out, and an
// operation waiting for that connect gets operation_aborted.
BOOST_AUTO_TEST_CASE(the_connecting_operation_times_out)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    blackhole_port(acceptor.local_endpoint().port());
    for (const bool write_connects : {true, false})
    {
        BOOST_TEST_CONTEXT((write_connects ? "a write" : "a read") << " with a timeout connects")
        {
            tfo::fast_open_stream stream(io, acceptor.local_endpoint());
            completion read, write;
            std::array<char, 16> space;
            stream.expires_after(300ms);
            if (write_connects)
                stream.async_write_some(asio::buffer(request), record(write));
            else
                stream.async_read_some(asio::buffer(space), record(read));
            stream.expires_never(); // the other direction waits without a timeout
            if (write_connects)
                stream.async_read_some(asio::buffer(space), record(read));
            else
                stream.async_write_some(asio::buffer(request), record(write));
            run_until(io, [&] { return read.done && write.done; });
            completion& timed = write_connects ? write : read;
            completion& other = write_connects ? read : write;
            BOOST_TEST((timed.ec == asio::error::timed_out), timed.ec.message());
            BOOST_TEST((other.ec == asio::error::operation_aborted), other.ec.message());
        }
    }
}

// A timer that expired with nothing pending: the next operation of that
// direction times out at once, even when it could complete (data waiting
// to be read, room to write), and the stream is closed.
BOOST_AUTO_TEST_CASE(an_expired_timer_times_out_the_next_operation_at_once)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    for (const bool is_read : {true, false})
    {
        BOOST_TEST_CONTEXT((is_read ? "read" : "write"))
        {
            std::optional<tcp::socket> server;
            acceptor.async_accept([&](error_code ec, tcp::socket s) {
                BOOST_REQUIRE(!ec);
                asio::write(s, asio::buffer(request)); // data waiting for the client
                server.emplace(std::move(s));
            });
            tfo::fast_open_stream stream(io, acceptor.local_endpoint());
            completion first;
            asio::async_write(stream, asio::buffer(request), record(first));
            run_until(io, [&] { return first.done && server.has_value(); });
            BOOST_REQUIRE(!first.ec);
            // Let the greeting arrive, then let a short expiry pass with nothing pending.
            run_until(io, [&] { return stream.next_layer().available() >= request.size(); });
            stream.expires_after(1ms);
            std::this_thread::sleep_for(20ms);
            completion late;
            std::array<char, 64> space;
            if (is_read)
                stream.async_read_some(asio::buffer(space), record(late));
            else
                stream.async_write_some(asio::buffer(request), record(late));
            BOOST_TEST(!late.done, "never inside the initiating call");
            run_until(io, [&] { return late.done; });
            BOOST_TEST((late.ec == asio::error::timed_out), late.ec.message());
            BOOST_TEST(late.n == 0u);
            BOOST_TEST(!stream.next_layer().is_open(), "the stream is closed");
        }
    }
}

#if TFO_TEST_TLS
// asio::ssl completes a zero-length write with a zero-length read of the
// next layer, while the application's timed read is pending: that read must
// still time out (Beast issue 2065 is the same for basic_stream).
BOOST_AUTO_TEST_CASE(ssl_zero_length_write_keeps_the_read_timeout)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    const auto id = tfo::test::make_tls_identity();
    auto server_ctx = tfo::test::make_server_context(id, 0);
    auto client_ctx = tfo::test::make_client_context(id);
    bool server_done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
            asio::ssl::stream<tcp::socket> tls(std::move(socket), server_ctx);
            co_await tls.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
            // Silent from here: the client's read can only time out.
            std::array<char, 16> sink;
            co_await tls.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
            server_done = true;
        },
        rethrow);

    asio::ssl::stream<tfo::fast_open_stream> tls(tfo::fast_open_stream(io, acceptor.local_endpoint()), client_ctx);
    bool handshaken = false;
    tls.async_handshake(asio::ssl::stream_base::client, [&](error_code ec) {
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        handshaken = true;
    });
    run_until(io, [&] { return handshaken; });

    tls.next_layer().expires_after(500ms);
    std::array<char, 16> space;
    completion read, empty_write;
    const auto start = std::chrono::steady_clock::now();
    tls.async_read_some(asio::buffer(space), record(read));
    tls.async_write_some(asio::const_buffer(), record(empty_write));
    run_until(io, [&] { return read.done && empty_write.done; }, 5s);
    BOOST_TEST(!empty_write.ec, empty_write.ec.message());
    BOOST_TEST(empty_write.n == 0u);
    BOOST_TEST((read.ec == asio::error::timed_out), read.ec.message());
    BOOST_TEST((std::chrono::steady_clock::now() - start < 2s));
    run_until(io, [&] { return server_done; });
}
#endif

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_stream_layers
