// tfo::async_fastopen_connect against real TCP Fast Open in private network
// namespaces. Every TFO claim is checked on kernel evidence: the namespace's
// TcpExt counters and TCP_INFO on both ends.

#include <tfo/async_fastopen_connect.hpp>

#define BOOST_TEST_MODULE netns_async_fastopen_connect
#include <boost/test/unit_test.hpp>

#include <tfo/fast_open_info.hpp>
#include <tfo/system.hpp>

#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using tfo::test::private_netns;

namespace {

const std::string request = "GET /index.html HTTP/1.1\r\nHost: tfo.test\r\n\r\n";

std::string random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen());
    return s;
}

// Accepts one connection and reads it to the end, noting how much of the
// request was already there when accept returned (data that rode in the SYN
// is queued before the handshake finishes).
struct sink
{
    explicit sink(tcp::acceptor& a) : acceptor(a) {}

    tcp::acceptor& acceptor;
    std::optional<tcp::socket> socket;
    std::size_t readable_at_accept = 0;
    std::string received;
    tfo::fast_open_info info;

    void start()
    {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            BOOST_REQUIRE_MESSAGE(!ec, "accept: " << ec.message());
            readable_at_accept = s.available();
            info = tfo::get_fast_open_info(s);
            socket.emplace(std::move(s));
            asio::async_read(*socket, asio::dynamic_buffer(received),
                             [](boost::system::error_code ec, std::size_t) {
                                 BOOST_TEST((ec == asio::error::eof), ec.message());
                             });
        });
    }
};

struct outcome
{
    boost::system::error_code ec;
    std::size_t bytes = 0;
    std::string received;
    std::size_t readable_at_accept = 0;
    tfo::fast_open_info client;
    tfo::fast_open_info server;
    tfo::fast_open_counters counted;
};

// One async_fastopen_connect with a callback, the peer reading to the end.
template <typename Buffers>
outcome fastopen_once(tcp::acceptor& acceptor, const Buffers& buffers)
{
    auto& io = static_cast<asio::io_context&>(acceptor.get_executor().context());
    const auto before = tfo::kernel_counters();
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    outcome out;
    bool called = false;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), buffers,
                                [&](boost::system::error_code ec, std::size_t n) {
                                    called = true;
                                    out.ec = ec;
                                    out.bytes = n;
                                    if (!ec)
                                        out.client = tfo::get_fast_open_info(client);
                                    client.shutdown(tcp::socket::shutdown_send, ec);
                                });
    BOOST_TEST(!called, "the handler ran inside the initiating call");
    io.restart();
    io.run();
    BOOST_TEST(called);
    out.received = std::move(server.received);
    out.readable_at_accept = server.readable_at_accept;
    out.server = server.info;
    out.counted = tfo::kernel_counters() - before;
    return out;
}

outcome fastopen_once(tcp::acceptor& acceptor, const std::string& data)
{
    return fastopen_once(acceptor, asio::buffer(data));
}

// The operation succeeded and the server read exactly `data`.
void expect_delivered(const outcome& o, const std::string& data)
{
    BOOST_TEST(!o.ec, o.ec.message());
    BOOST_TEST(o.bytes == data.size());
    BOOST_TEST(o.received.size() == data.size());
    BOOST_TEST((o.received == data), "every byte once and in order");
}

void expect_data_in_syn(const outcome& o, std::size_t in_syn)
{
    BOOST_TEST(o.counted.active == 1u);
    BOOST_TEST(o.counted.passive == 1u);
    BOOST_TEST(o.counted.cookie_reqd == 0u);
    BOOST_TEST(o.client.syn_data_acked);
    BOOST_TEST(o.server.syn_data_acked);
    BOOST_TEST(o.readable_at_accept >= in_syn);
}

void expect_no_tfo(const outcome& o)
{
    BOOST_TEST(o.counted.active == 0u);
    BOOST_TEST(o.counted.passive == 0u);
    BOOST_TEST(!o.client.syn_data_acked);
    BOOST_TEST(!o.server.syn_data_acked);
}

// A port on which nothing listens: connecting to it is refused.
tcp::endpoint closed_port(asio::io_context& io, const tcp& protocol = tcp::v4())
{
    auto acceptor = tfo::test::make_listener(io, protocol, 0);
    return acceptor.local_endpoint(); // closed when `acceptor` goes
}

// Drops every SYN to `port`: a connect to it stays pending.
void blackhole_port(unsigned short port)
{
    private_netns::nft("table inet tfo_blackhole { chain input { type filter hook input priority 0; tcp dport " +
                       std::to_string(port) + " tcp flags & (syn | ack) == syn drop; }; }");
}

} // namespace

BOOST_AUTO_TEST_SUITE(fastopen, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(cookie_then_request_in_syn)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);

    auto first = fastopen_once(acceptor, request);
    expect_delivered(first, request);
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_TEST((first.client.failure == tfo::client_failure::cookie_unavailable));
    expect_no_tfo(first);

    for (int i = 0; i < 3; ++i)
    {
        auto again = fastopen_once(acceptor, request);
        expect_delivered(again, request);
        // The whole request was readable the moment accept returned: it came in the SYN.
        expect_data_in_syn(again, request.size());
    }
}

BOOST_AUTO_TEST_CASE(ipv6)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v6(), 16);
    fastopen_once(acceptor, request);
    auto again = fastopen_once(acceptor, request);
    expect_delivered(again, request);
    expect_data_in_syn(again, request.size());
}

BOOST_AUTO_TEST_CASE(empty_buffers_connect_and_ask_for_a_cookie)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    auto first = fastopen_once(acceptor, std::string());
    BOOST_TEST(!first.ec, first.ec.message());
    BOOST_TEST(first.bytes == 0u);
    BOOST_TEST(first.received.empty());
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    // The cookie it asked for serves the next call.
    auto second = fastopen_once(acceptor, request);
    expect_data_in_syn(second, request.size());
}

BOOST_AUTO_TEST_CASE(one_byte)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, std::string("x"));
    const std::string one = "y";
    auto again = fastopen_once(acceptor, one);
    expect_delivered(again, one);
    expect_data_in_syn(again, 1);
}

BOOST_AUTO_TEST_CASE(one_mebibyte_more_than_fits_in_the_syn)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request);
    const std::string big = random_bytes(1 << 20, 42);
    auto o = fastopen_once(acceptor, big);
    expect_delivered(o, big);
    expect_data_in_syn(o, 1); // the SYN carried the first segment, not all of it
    BOOST_TEST(o.readable_at_accept < big.size());
}

BOOST_AUTO_TEST_CASE(gather_sequence_of_64_buffers)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request);

    std::vector<std::string> parts;
    std::vector<asio::const_buffer> sequence;
    for (unsigned i = 0; i < 64; ++i)
        parts.push_back(random_bytes(100 + 37 * i, i)); // 64 parts, ~80 KiB
    for (const auto& p : parts)
        sequence.push_back(asio::buffer(p));
    std::string expected;
    for (const auto& p : parts)
        expected += p;

    auto o = fastopen_once(acceptor, sequence);
    expect_delivered(o, expected);
    expect_data_in_syn(o, 1);
}

BOOST_AUTO_TEST_CASE(fallback_when_client_tfo_is_off)
{
    for (int mode : {0, 2})
    {
        private_netns ns(mode);
        asio::io_context io;
        auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
        for (int i = 0; i < 2; ++i)
        {
            auto o = fastopen_once(acceptor, request);
            expect_delivered(o, request);
            expect_no_tfo(o);
            BOOST_TEST(o.counted.cookie_reqd == 0u, "mode " << mode << ": no SYN asked for a cookie");
        }
    }
}

BOOST_AUTO_TEST_CASE(fallback_when_server_has_no_option)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 0);
    for (int i = 0; i < 2; ++i)
    {
        auto o = fastopen_once(acceptor, request);
        expect_delivered(o, request);
        expect_no_tfo(o);
        BOOST_TEST((o.client.failure == tfo::client_failure::cookie_unavailable));
    }
}

BOOST_AUTO_TEST_CASE(fallback_when_server_tfo_is_off)
{
    private_netns ns(1); // the listener has the option, but the server bit is clear
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    for (int i = 0; i < 2; ++i)
    {
        auto o = fastopen_once(acceptor, request);
        expect_delivered(o, request);
        expect_no_tfo(o);
    }
}

BOOST_AUTO_TEST_CASE(middlebox_drops_syns_with_data)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request); // get a cookie

    // A SYN without data is at most 20 (IP) + 60 (TCP with options) bytes.
    private_netns::nft("table ip tfo_middlebox { chain input { type filter hook input priority 0; "
                       "tcp flags & (syn | ack) == syn ip length > 80 counter drop; }; }");
    const std::string payload = random_bytes(300, 7);
    auto o = fastopen_once(acceptor, payload);
    expect_delivered(o, payload); // the kernel, not tfo, resent the data after the handshake
    BOOST_TEST(!o.client.syn_data_acked);
    BOOST_TEST((o.client.failure == tfo::client_failure::syn_retransmitted),
               "failure: " << tfo::to_string(o.client.failure));
    BOOST_TEST(o.counted.passive == 0u);
    BOOST_TEST(o.counted.active_fail == 1u);
    BOOST_TEST(private_netns::run("nft list table ip tfo_middlebox | grep -q 'packets [1-9]'") == 0,
               "the rule dropped the SYN");
}

BOOST_AUTO_TEST_CASE(refused)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    // Without, then with a cookie cached for 127.0.0.1: the second refused SYN carries data.
    for (int i = 0; i < 2; ++i)
    {
        tcp::socket client(io);
        boost::system::error_code result;
        std::size_t written = 99;
        tfo::async_fastopen_connect(client, closed_port(io), asio::buffer(request),
                                    [&](boost::system::error_code ec, std::size_t n) {
                                        result = ec;
                                        written = n;
                                    });
        io.restart();
        io.run();
        BOOST_TEST((result == asio::error::connection_refused), result.message());
        BOOST_TEST(written == 0u, "nothing was delivered");
        if (i == 0)
            fastopen_once(acceptor, request);
    }
    boost::system::error_code ec;
    tcp::socket client(io);
    BOOST_TEST(tfo::fastopen_connect(client, closed_port(io), asio::buffer(request), ec) == 0u);
    BOOST_TEST((ec == asio::error::connection_refused));
}

BOOST_AUTO_TEST_CASE(endpoint_sequence_skips_refusing_endpoints)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request); // cookie for 127.0.0.1

    std::vector<tcp::endpoint> endpoints{closed_port(io, tcp::v6()), closed_port(io), acceptor.local_endpoint()};
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    const auto before = tfo::kernel_counters();
    bool called = false;
    tfo::async_fastopen_connect(client, endpoints, asio::buffer(request),
                                [&](boost::system::error_code ec, tcp::endpoint ep, std::size_t n) {
                                    called = true;
                                    BOOST_TEST(!ec, ec.message());
                                    BOOST_TEST((ep == acceptor.local_endpoint()));
                                    BOOST_TEST(n == request.size());
                                    client.shutdown(tcp::socket::shutdown_send);
                                });
    io.restart();
    io.run();
    BOOST_TEST(called);
    BOOST_TEST(server.received == request);
    BOOST_TEST((tfo::kernel_counters() - before).passive == 1u);
}

BOOST_AUTO_TEST_CASE(endpoint_sequence_all_refuse)
{
    private_netns ns(3);
    asio::io_context io;
    std::vector<tcp::endpoint> endpoints{closed_port(io), closed_port(io)};
    tcp::socket client(io);
    bool called = false;
    tfo::async_fastopen_connect(client, endpoints, asio::buffer(request),
                                [&](boost::system::error_code ec, tcp::endpoint ep, std::size_t n) {
                                    called = true;
                                    BOOST_TEST((ec == asio::error::connection_refused), ec.message());
                                    BOOST_TEST((ep == tcp::endpoint()));
                                    BOOST_TEST(n == 0u);
                                });
    io.run();
    BOOST_TEST(called);
}

BOOST_AUTO_TEST_CASE(already_connected_socket_sends_nothing)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();

    boost::system::error_code result;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    result = ec;
                                    BOOST_TEST(n == 0u);
                                });
    io.run();
    BOOST_TEST((result == asio::error::already_connected), result.message());
    BOOST_TEST(server.available() == 0u);
    boost::system::error_code ec;
    BOOST_TEST(tfo::fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request), ec) == 0u);
    BOOST_TEST((ec == asio::error::already_connected));
    BOOST_TEST(server.available() == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_through_the_slot)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    blackhole_port(acceptor.local_endpoint().port());
    tcp::socket client(io);
    asio::cancellation_signal signal;
    boost::system::error_code result;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                asio::bind_cancellation_slot(signal.slot(),
                                                             [&](boost::system::error_code ec, std::size_t) {
                                                                 result = ec;
                                                             }));
    asio::steady_timer timer(io, std::chrono::milliseconds(50));
    timer.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
    io.run();
    BOOST_TEST((result == asio::error::operation_aborted), result.message());
}

BOOST_AUTO_TEST_CASE(cancel_by_closing_the_socket)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    blackhole_port(acceptor.local_endpoint().port());
    for (bool close : {true, false})
    {
        tcp::socket client(io);
        boost::system::error_code result;
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                    [&](boost::system::error_code ec, std::size_t) { result = ec; });
        asio::steady_timer timer(io, std::chrono::milliseconds(50));
        timer.async_wait([&](boost::system::error_code) { close ? client.close() : client.cancel(); });
        io.restart();
        io.run();
        BOOST_TEST((result == asio::error::operation_aborted), result.message());
    }
}

BOOST_AUTO_TEST_CASE(io_context_destroyed_while_pending)
{
    private_netns ns(3);
    asio::io_context server_io;
    auto acceptor = tfo::test::make_listener(server_io, tcp::v4(), 16);
    blackhole_port(acceptor.local_endpoint().port());
    bool called = false;
    {
        asio::io_context io;
        tcp::socket client(io);
        std::string owned = request;
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(owned),
                                    [&called](boost::system::error_code, std::size_t) { called = true; });
        io.run_for(std::chrono::milliseconds(50));
        // `io` is destroyed with the operation pending; ASan checks that nothing leaks.
    }
    BOOST_TEST(!called);
}

// Completion styles other than the plain callback used above.

BOOST_AUTO_TEST_CASE(coroutine_with_use_awaitable)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request);
    const auto before = tfo::kernel_counters();
    std::string reply;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tcp::socket client(io);
            std::size_t n = co_await tfo::async_fastopen_connect(client, acceptor.local_endpoint(),
                                                                 asio::buffer(request), asio::use_awaitable);
            BOOST_TEST(n == request.size());
            BOOST_TEST(tfo::get_fast_open_info(client).syn_data_acked);
            co_await asio::async_read(client, asio::dynamic_buffer(reply),
                                      asio::as_tuple(asio::use_awaitable)); // until EOF
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
            std::string got(request.size(), '\0');
            co_await asio::async_read(s, asio::buffer(got), asio::use_awaitable);
            BOOST_TEST(got == request);
            co_await asio::async_write(s, asio::buffer("pong", 4), asio::use_awaitable);
        },
        asio::detached);
    io.restart();
    io.run();
    BOOST_TEST(reply == "pong");
    BOOST_TEST((tfo::kernel_counters() - before).passive == 1u);
}

BOOST_AUTO_TEST_CASE(as_tuple_reports_errors_without_throwing)
{
    private_netns ns(3);
    asio::io_context io;
    const auto refused = closed_port(io);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tcp::socket client(io);
            auto [ec, n] = co_await tfo::async_fastopen_connect(client, refused, asio::buffer(request),
                                                                asio::as_tuple(asio::use_awaitable));
            BOOST_TEST((ec == asio::error::connection_refused));
            BOOST_TEST(n == 0u);
            // The throwing form of the same.
            tcp::socket again(io);
            BOOST_CHECK_THROW(co_await tfo::async_fastopen_connect(again, refused, asio::buffer(request),
                                                                   asio::use_awaitable),
                              boost::system::system_error);
        },
        [](std::exception_ptr e) { BOOST_TEST(!e); });
    io.run();
}

BOOST_AUTO_TEST_CASE(use_future)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request);
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    std::future<std::size_t> f =
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request), asio::use_future);
    io.restart();
    while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
        io.run_one();
    BOOST_TEST(f.get() == request.size());
    BOOST_TEST(tfo::get_fast_open_info(client).syn_data_acked);
    client.shutdown(tcp::socket::shutdown_send);
    io.run();
    BOOST_TEST(server.received == request);

    tcp::socket refused(io);
    auto f2 = tfo::async_fastopen_connect(refused, closed_port(io), asio::buffer(request), asio::use_future);
    io.restart();
    io.run();
    BOOST_CHECK_THROW(f2.get(), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(deferred_and_strand)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request);
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    auto strand = asio::make_strand(io);
    auto op = tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request), asio::deferred);
    bool on_strand = false;
    std::move(op)(asio::bind_executor(strand, [&](boost::system::error_code ec, std::size_t n) {
        on_strand = strand.running_in_this_thread();
        BOOST_TEST(!ec);
        BOOST_TEST(n == request.size());
        client.shutdown(tcp::socket::shutdown_send);
    }));
    io.restart();
    io.run();
    BOOST_TEST(on_strand);
    BOOST_TEST(server.received == request);
    BOOST_TEST(server.info.syn_data_acked);
}

// Counts what the operation allocates through the handler's allocator.
template <typename T>
struct counting_allocator
{
    using value_type = T;
    std::size_t* count;

    explicit counting_allocator(std::size_t* c) noexcept : count(c) {}
    template <typename U>
    counting_allocator(const counting_allocator<U>& other) noexcept : count(other.count)
    {
    }
    T* allocate(std::size_t n)
    {
        ++*count;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
    template <typename U>
    bool operator==(const counting_allocator<U>& other) const noexcept
    {
        return count == other.count;
    }
};

BOOST_AUTO_TEST_CASE(intermediate_storage_uses_the_associated_allocator)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request);
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    std::size_t allocations = 0;
    bool called = false;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                asio::bind_allocator(counting_allocator<void>(&allocations),
                                                     [&](boost::system::error_code ec, std::size_t) {
                                                         called = true;
                                                         BOOST_TEST(!ec);
                                                         client.shutdown(tcp::socket::shutdown_send);
                                                     }));
    io.restart();
    io.run();
    BOOST_TEST(called);
    BOOST_TEST(allocations >= 1u, "the wait for the SYN-ACK is stored through the handler's allocator");
    BOOST_TEST(server.info.syn_data_acked);
}

BOOST_AUTO_TEST_CASE(resolver_results)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    fastopen_once(acceptor, request);
    tcp::resolver resolver(io);
    auto results = resolver.resolve("127.0.0.1", std::to_string(acceptor.local_endpoint().port()),
                                    tcp::resolver::numeric_host | tcp::resolver::numeric_service);
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto [ep, n] =
                co_await tfo::async_fastopen_connect(client, results, asio::buffer(request), asio::use_awaitable);
            BOOST_TEST((ep == acceptor.local_endpoint()));
            BOOST_TEST(n == request.size());
            client.shutdown(tcp::socket::shutdown_send);
        },
        asio::detached);
    io.restart();
    io.run();
    BOOST_TEST(server.received == request);
    BOOST_TEST(server.info.syn_data_acked);
}

BOOST_AUTO_TEST_CASE(synchronous_forms)
{
    private_netns ns(3);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    for (int i = 0; i < 2; ++i)
    {
        tcp::socket client(io);
        const auto before = tfo::kernel_counters();
        BOOST_TEST(tfo::fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request)) == request.size());
        tcp::socket server = acceptor.accept();
        std::string got(request.size(), '\0');
        asio::read(server, asio::buffer(got));
        BOOST_TEST(got == request);
        BOOST_TEST((tfo::kernel_counters() - before).passive == (i == 0 ? 0u : 1u));
    }
    tcp::socket refused(io);
    BOOST_CHECK_THROW(tfo::fastopen_connect(refused, closed_port(io), asio::buffer(request)),
                      boost::system::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
