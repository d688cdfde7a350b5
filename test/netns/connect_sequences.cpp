//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::async_fastopen_connect against real TCP Fast Open in private network
// namespaces. The endpoint-sequence overload: refusals move on, a connection that was established ends the sequence.
// Every TFO claim is checked on kernel evidence: the namespace's TcpExt
// counters and TCP_INFO on both ends.

#include <tfo/async_fastopen_connect.hpp>

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

#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_sequences)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;

BOOST_AUTO_TEST_SUITE(fastopen, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_FIXTURE_TEST_CASE(endpoint_sequence_skips_refusing_endpoints, fast_open_listener)
{
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

BOOST_FIXTURE_TEST_CASE(resolver_results, cookie_cached)
{
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

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_sequences
