//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::async_fastopen_connect against real TCP Fast Open in private network
// namespaces. Completion styles other than the plain callback, executors, allocators, and the synchronous forms.
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
BOOST_AUTO_TEST_SUITE(netns_connect_tokens)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;

namespace {

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

} // namespace

BOOST_AUTO_TEST_SUITE(fastopen, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_FIXTURE_TEST_CASE(coroutine_with_use_awaitable, cookie_cached)
{
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

BOOST_FIXTURE_TEST_CASE(use_future, cookie_cached)
{
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

BOOST_FIXTURE_TEST_CASE(deferred_and_strand, cookie_cached)
{
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

BOOST_FIXTURE_TEST_CASE(intermediate_storage_uses_the_associated_allocator, cookie_cached)
{
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

BOOST_FIXTURE_TEST_CASE(synchronous_forms, fast_open_listener)
{
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

BOOST_AUTO_TEST_SUITE_END() // netns_connect_tokens
