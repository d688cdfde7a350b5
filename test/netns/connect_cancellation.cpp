//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::async_fastopen_connect against real TCP Fast Open in private network
// namespaces. Cancellation at every stage, and what each reports as delivered.
// Every TFO claim is checked on kernel evidence: the namespace's TcpExt
// counters and TCP_INFO on both ends.

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/path_memory.hpp>

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/read.hpp>

#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_cancellation)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;

BOOST_AUTO_TEST_SUITE(fastopen, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_FIXTURE_TEST_CASE(cancel_through_the_slot, fast_open_listener)
{
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

BOOST_FIXTURE_TEST_CASE(cancel_by_closing_the_socket, fast_open_listener)
{
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

namespace {

// One operation cancelled through its slot with `type`, emitted as soon as
// it started. Returns what the handler got; the client is closed in it, so
// the peer reads to the end.
struct cancelled_outcome
{
    boost::system::error_code ec;
    std::size_t bytes = 0;
};

cancelled_outcome cancel_at_once(asio::io_context& io, tcp::socket& client, const tcp::endpoint& to,
                                 const std::string& data, asio::cancellation_type type)
{
    asio::cancellation_signal signal;
    cancelled_outcome out;
    tfo::async_fastopen_connect(client, to, asio::buffer(data),
                                asio::bind_cancellation_slot(signal.slot(),
                                                             [&](boost::system::error_code ec, std::size_t n) {
                                                                 out = {ec, n};
                                                                 client.close();
                                                             }));
    signal.emit(type);
    io.restart();
    io.run();
    return out;
}

} // namespace

// With a cookie cached, the SYN carries the request, and on loopback the
// server has taken it before the client's loop runs: a cancellation reports
// the request as delivered, because it was.
BOOST_FIXTURE_TEST_CASE(cancelled_after_the_syn_carried_the_request, cookie_cached)
{
    const std::string payload = random_bytes(1000, 3);
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial})
    {
        const auto before = tfo::kernel_counters();
        sink server{acceptor};
        server.start();
        tcp::socket client(io);
        const auto o = cancel_at_once(io, client, acceptor.local_endpoint(), payload, type);
        BOOST_TEST((o.ec == asio::error::operation_aborted), o.ec.message());
        BOOST_TEST(server.received == payload);
        BOOST_TEST(o.bytes == server.received.size(), "bytes_written is what the server read");
        BOOST_TEST(server.info.syn_data_acked, "the request rode in the SYN");
        BOOST_TEST((tfo::kernel_counters() - before).passive == 1u);
    }
}

// `total` promises no side effect; once the request left in a SYN it cannot
// be honoured, so the operation carries on and succeeds.
BOOST_FIXTURE_TEST_CASE(total_cancellation_is_not_honoured_once_data_left, cookie_cached)
{
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    const auto o = cancel_at_once(io, client, acceptor.local_endpoint(), request, asio::cancellation_type::total);
    BOOST_TEST(!o.ec, o.ec.message());
    BOOST_TEST(o.bytes == request.size());
    BOOST_TEST(server.received == request);
    BOOST_TEST(server.info.syn_data_acked);
}

BOOST_FIXTURE_TEST_CASE(socket_cancel_after_the_syn_carried_the_request, cookie_cached)
{
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    boost::system::error_code result;
    std::size_t written = 0;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    result = ec;
                                    written = n;
                                    client.close();
                                });
    client.cancel();
    io.restart();
    io.run();
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    // io_uring cancels asynchronously: a wait the kernel completed first (the
    // SYN-ACK is there at once on loopback) is not aborted, and the operation
    // carries on to success. The count is what the server read either way.
    BOOST_TEST((result == asio::error::operation_aborted || !result), result.message());
#else
    BOOST_TEST((result == asio::error::operation_aborted), result.message());
#endif
    BOOST_TEST(server.received == request);
    BOOST_TEST(written == server.received.size());
}

// The client bit is off: the operation falls back to a plain connect, which a
// blackhole keeps pending. Nothing of the data left, so every type is honoured.
BOOST_AUTO_TEST_CASE(cancelled_during_the_fallback_connect)
{
    private_netns ns(2);
    asio::io_context io;
    auto acceptor = make_listener(io, tcp::v4(), 16);
    blackhole_port(acceptor.local_endpoint().port());
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                      asio::cancellation_type::total})
    {
        tcp::socket client(io);
        const auto o = cancel_at_once(io, client, acceptor.local_endpoint(), request, type);
        BOOST_TEST((o.ec == asio::error::operation_aborted), o.ec.message());
        BOOST_TEST(o.bytes == 0u);
    }
    BOOST_TEST(private_netns::run("nft list table inet tfo_blackhole | grep -q 'drop'") == 0);
}

// Cancelled while writing what did not fit in the SYN, with the server not
// reading: the count is exactly what the server reads afterwards.
BOOST_FIXTURE_TEST_CASE(cancelled_during_the_writes, cookie_cached)
{
    const std::string big = random_bytes(32 << 20, 9); // far more than the socket buffers hold
    for (bool by_slot : {true, false})
    {
        tcp::socket client(io);
        asio::cancellation_signal signal;
        boost::system::error_code result;
        std::size_t written = 0;
        bool called = false;
        tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(big),
                                    asio::bind_cancellation_slot(signal.slot(),
                                                                 [&](boost::system::error_code ec, std::size_t n) {
                                                                     called = true;
                                                                     result = ec;
                                                                     written = n;
                                                                 }));
        // Run until the operation waits for room in a full socket buffer.
        io.restart();
        while (io.poll() > 0)
            ;
        BOOST_TEST_REQUIRE(!called);
        if (by_slot)
        {
            signal.emit(asio::cancellation_type::total); // data went out: not honoured
            BOOST_TEST(io.poll() == 0u);
            BOOST_TEST(!called);
            signal.emit(asio::cancellation_type::partial);
        }
        else
            client.cancel();
        io.run();
        BOOST_TEST(called);
        BOOST_TEST((result == asio::error::operation_aborted), result.message());
        BOOST_TEST(written > 0u);
        BOOST_TEST(written < big.size());
        client.close(); // the bytes handed to the kernel still go out, then FIN

        const auto server = read_next_connection(acceptor);
        BOOST_TEST(server.info.syn_data_acked);
        BOOST_TEST(server.data.size() == written, "bytes_written is what the server read");
        BOOST_TEST((server.data == big.substr(0, written)));
    }
}

// A destination new to the path memory has its kernel record read first,
// after a post (never in the initiating function). A close or a cancellation
// that comes before that step ends the operation there: nothing is sent.
BOOST_FIXTURE_TEST_CASE(stopped_while_a_new_destination_is_looked_up, fast_open_listener)
{
    for (const bool close : {true, false})
    {
        BOOST_TEST_CONTEXT((close ? "close()" : "terminal cancellation"))
        {
            asio::io_context client_io; // a path memory of its own: the destination is new
            tcp::socket client(client_io);
            asio::cancellation_signal signal;
            bool called = false;
            boost::system::error_code result;
            std::size_t written = 1;
            tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(request),
                                        asio::bind_cancellation_slot(signal.slot(),
                                                                     [&](boost::system::error_code ec, std::size_t n) {
                                                                         called = true;
                                                                         result = ec;
                                                                         written = n;
                                                                     }));
            BOOST_TEST(!called, "never inside the initiating function");
            if (close)
                client.close();
            else
                signal.emit(asio::cancellation_type::terminal);
            client_io.run_for(std::chrono::seconds(5));
            BOOST_TEST(called);
            BOOST_TEST((result == asio::error::operation_aborted), result.message());
            BOOST_TEST(written == 0u);
            const auto counters = asio::use_service<tfo::path_memory>(client_io).counters();
            BOOST_TEST(counters.kernel_reads == 1u, "stopped at the kernel read");
            BOOST_TEST(counters.attempts == 0u, "no advice given, no SYN sent");
            acceptor.non_blocking(true);
            boost::system::error_code accept_ec;
            acceptor.accept(accept_ec);
            BOOST_TEST((accept_ec == asio::error::would_block), "no connection reached the server");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_cancellation
