//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Fleet cookie keys in a private network namespace: listeners that share a
// secret accept each other's cookies, rotation keeps the previous key as
// backup, and async_rotate_keys follows the schedule on a timer and ends
// with its acceptor.

#include <tfo/key_schedule.hpp>

#include <boost/test/unit_test.hpp>

#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_key_schedule)

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
namespace ut = boost::unit_test;
using tfo::netns::private_netns;
using clock_type = tfo::key_schedule::clock;

namespace {

const std::string request = "GET /fleet HTTP/1.1\r\n\r\n";

tfo::key_schedule make_schedule(unsigned char fill, std::chrono::seconds period = 3600s)
{
    return tfo::key_schedule(std::vector<unsigned char>(32, fill), period);
}

} // namespace

BOOST_AUTO_TEST_SUITE(fleet, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(listeners_sharing_a_secret_accept_each_others_cookies)
{
    private_netns ns(3);
    asio::io_context io;
    const auto now = clock_type::now();
    auto a = tfo::test::make_listener(io, tcp::v4(), 16);
    auto b = tfo::test::make_listener(io, tcp::v4(), 16);
    a.set_option(make_schedule(7).keys_at(now));
    b.set_option(make_schedule(7).keys_at(now));

    // The client's cookie cache is per server address, not per port: the
    // cookie that A hands out is the one presented to B.
    auto first = tfo::test::raw_connect_once(io, a, request);
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    auto to_b = tfo::test::raw_connect_once(io, b, request);
    BOOST_TEST(to_b.counted.passive == 1u);
    BOOST_TEST(to_b.counted.passive_fail == 0u);
    BOOST_TEST(to_b.readable_at_accept == request.size());
}

BOOST_AUTO_TEST_CASE(listeners_with_different_secrets_reject_and_the_client_falls_back)
{
    private_netns ns(3);
    asio::io_context io;
    const auto now = clock_type::now();
    auto a = tfo::test::make_listener(io, tcp::v4(), 16);
    auto b = tfo::test::make_listener(io, tcp::v4(), 16);
    a.set_option(make_schedule(7).keys_at(now));
    b.set_option(make_schedule(8).keys_at(now));

    tfo::test::raw_connect_once(io, a, request);
    auto to_b = tfo::test::raw_connect_once(io, b, request); // the data still arrives
    BOOST_TEST(to_b.counted.passive == 0u);
    BOOST_TEST(to_b.counted.passive_fail == 1u);
}

// What a cookie from period t0 counts for after the listener moved on by
// `rotations` periods.
tfo::fast_open_counters cookie_after_rotations(int rotations)
{
    private_netns ns(3);
    asio::io_context io;
    const auto schedule = make_schedule(7);
    const auto t0 = clock_type::now();
    auto listener = tfo::test::make_listener(io, tcp::v4(), 16);
    listener.set_option(schedule.keys_at(t0));
    tfo::test::raw_connect_once(io, listener, request);

    listener.set_option(schedule.keys_at(t0 + rotations * schedule.period()));
    return tfo::test::raw_connect_once(io, listener, request).counted;
}

BOOST_AUTO_TEST_CASE(after_one_rotation_old_cookies_match_the_backup_key)
{
    const auto counted = cookie_after_rotations(1);
    BOOST_TEST(counted.passive == 1u);
    BOOST_TEST(counted.passive_alt_key == 1u);
    BOOST_TEST(counted.passive_fail == 0u);
}

BOOST_AUTO_TEST_CASE(after_two_rotations_old_cookies_are_refused)
{
    const auto counted = cookie_after_rotations(2);
    BOOST_TEST(counted.passive == 0u);
    BOOST_TEST(counted.passive_alt_key == 0u);
    BOOST_TEST(counted.passive_fail == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A system clock the test moves by hand: it counts from the Unix epoch, as
// key_schedule::clock does, so a schedule reads it directly.
struct manual_clock
{
    using duration = std::chrono::system_clock::duration;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<manual_clock>;
    static constexpr bool is_steady = false;
    static time_point now() noexcept { return current; }
    static inline time_point current{};
};

// Every pass of the reactor checks a manual_clock timer (a wait of zero), so
// it sees the clock move without any real waiting, and a boundary the test
// has passed is queued by the very next pass. On Asio's io_uring backend,
// passes that never block kept a destroyed acceptor's aborted wait from
// ever completing (the rotation then never ended; with a real clock it ends
// at once), so there every pass waits a millisecond.
struct manual_wait_traits
{
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    static constexpr manual_clock::duration pass = std::chrono::milliseconds(1);
#else
    static constexpr manual_clock::duration pass{};
#endif
    static manual_clock::duration to_wait_duration(const manual_clock::duration&) { return pass; }
    static manual_clock::duration to_wait_duration(const manual_clock::time_point&) { return pass; }
};

manual_clock::time_point at(std::chrono::seconds since_epoch)
{
    return manual_clock::time_point(since_epoch);
}

clock_type::time_point schedule_time(manual_clock::time_point t)
{
    return clock_type::time_point(t.time_since_epoch());
}

template <typename Token>
auto rotate_on_manual_clock(tcp::acceptor& acceptor, const tfo::key_schedule& schedule, Token&& token)
{
    return tfo::detail::async_rotate_keys_on<manual_clock, manual_wait_traits>(acceptor, schedule,
                                                                               std::forward<Token>(token));
}

// Runs `io` until `done()` holds, for at most `limit`; the condition, not a
// delay, decides.
template <typename Predicate>
bool run_until(asio::io_context& io, Predicate done, std::chrono::steady_clock::duration limit = 10s)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline)
    {
        io.run_one_for(10ms);
        io.restart();
    }
    return done();
}

tfo::fast_open_key installed_keys(tcp::acceptor& acceptor)
{
    tfo::fast_open_key keys;
    acceptor.get_option(keys);
    return keys;
}

// The result of a rotation, once it completed.
struct outcome
{
    std::optional<boost::system::error_code> ec;
    auto handler()
    {
        return [this](boost::system::error_code e) { ec = e; };
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(rotation, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(follows_the_schedule_on_its_clock_without_dropping_connections)
{
    private_netns ns(3);
    asio::io_context io;
    const auto schedule = make_schedule(9, 100s);
    auto listener = tfo::test::make_listener(io, tcp::v4(), 16);
    auto established = tfo::test::raw_connect_once(io, listener, request);

    manual_clock::current = at(12345s);
    asio::cancellation_signal stop;
    outcome result;
    rotate_on_manual_clock(listener, schedule, asio::bind_cancellation_slot(stop.slot(), result.handler()));
    // Installed by the initiating call itself.
    BOOST_TEST((installed_keys(listener) == schedule.keys_at(schedule_time(at(12345s)))));

    // At the boundary the listener moves on; the old primary becomes the backup.
    manual_clock::current = at(12400s);
    const auto next = schedule.keys_at(schedule_time(at(12400s)));
    BOOST_TEST(!(next == schedule.keys_at(schedule_time(at(12345s)))));
    BOOST_TEST(run_until(io, [&] { return installed_keys(listener) == next; }));
    BOOST_TEST(!result.ec.has_value());

    // Two periods later, in one step (a suspended host, a clock step).
    manual_clock::current = at(12655s);
    const auto later = schedule.keys_at(schedule_time(at(12655s)));
    BOOST_TEST(run_until(io, [&] { return installed_keys(listener) == later; }));

    stop.emit(asio::cancellation_type::terminal);
    BOOST_TEST(run_until(io, [&] { return result.ec.has_value(); }));
    BOOST_TEST((result.ec == asio::error::operation_aborted));
    BOOST_TEST((installed_keys(listener) == later)); // kept

    // The connection made before the rotations still works both ways.
    asio::write(established.client, asio::buffer(request));
    std::string echo(request.size(), '\0');
    asio::read(established.server, asio::buffer(echo));
    BOOST_TEST(echo == request);
}

BOOST_AUTO_TEST_CASE(closing_the_acceptor_ends_a_detached_rotation_promptly)
{
    // Exactly as the guide shows it: the real clock, an hour, detached.
    private_netns ns(3);
    asio::io_context io;
    auto listener = tfo::test::make_listener(io, tcp::v4(), 16);
    tfo::async_rotate_keys(listener, make_schedule(9, 3600s), asio::detached);
    asio::post(io, [&] { listener.close(); });

    const auto started = std::chrono::steady_clock::now();
    io.run_for(20s);
    BOOST_TEST(io.stopped()); // out of work: nothing left waiting for the next hour
    BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));
}

// As a server's ordinary shutdown does it: the rotation started, the loop
// ran a while, the acceptor is closed from outside the loop, the loop runs
// on. With every kind of completion token the rotation ends at once and the
// loop runs out of work.
BOOST_AUTO_TEST_CASE(closing_the_acceptor_ends_the_rotation_whatever_the_token)
{
    enum class token
    {
        detached,
        lambda,
        use_future,
        use_awaitable,
        deferred,
        bound_slot
    };
    for (const token t : {token::detached, token::lambda, token::use_future, token::use_awaitable, token::deferred,
                          token::bound_slot})
        BOOST_TEST_CONTEXT("token " << static_cast<int>(t))
        {
            private_netns ns(3);
            asio::io_context io;
            auto listener = tfo::test::make_listener(io, tcp::v4(), 16);
            const auto schedule = make_schedule(9, 3600s);
            std::optional<boost::system::error_code> result;
            auto record = [&result](boost::system::error_code ec) { result = ec; };
            asio::cancellation_signal signal;
            std::future<void> future;
            switch (t)
            {
            case token::detached:
                tfo::async_rotate_keys(listener, schedule, asio::detached);
                break;
            case token::lambda:
                tfo::async_rotate_keys(listener, schedule, record);
                break;
            case token::use_future:
                future = tfo::async_rotate_keys(listener, schedule, asio::use_future);
                break;
            case token::use_awaitable:
                asio::co_spawn(
                    io,
                    [&]() -> asio::awaitable<void> {
                        auto [ec] = co_await tfo::async_rotate_keys(listener, schedule,
                                                                    asio::as_tuple(asio::use_awaitable));
                        result = ec;
                    },
                    asio::detached);
                break;
            case token::deferred:
                tfo::async_rotate_keys(listener, schedule, asio::deferred)(record);
                break;
            case token::bound_slot:
                tfo::async_rotate_keys(listener, schedule, asio::bind_cancellation_slot(signal.slot(), record));
                break;
            }
            io.run_for(100ms);
            BOOST_TEST(!io.stopped(), "the rotation waits for the next period");
            listener.close();
            const auto closed = std::chrono::steady_clock::now();
            io.restart();
            io.run_for(5s);
            BOOST_TEST(io.stopped(), "out of work: nothing waits for the next period");
            BOOST_TEST((std::chrono::steady_clock::now() - closed < 2s));
            if (t == token::use_future)
            {
                BOOST_TEST_REQUIRE((future.wait_for(0s) == std::future_status::ready));
                BOOST_CHECK_THROW(future.get(), boost::system::system_error);
            }
            else if (t != token::detached)
            {
                BOOST_TEST_REQUIRE(result.has_value());
                BOOST_TEST((*result == asio::error::operation_aborted), result->message());
            }
        }
}

BOOST_AUTO_TEST_CASE(closing_the_acceptor_completes_the_rotation_with_operation_aborted)
{
    private_netns ns(3);
    asio::io_context io;
    auto listener = tfo::test::make_listener(io, tcp::v4(), 16);
    outcome result;
    tfo::async_rotate_keys(listener, make_schedule(9, 3600s), result.handler());
    io.poll();
    BOOST_TEST(!result.ec.has_value());
    listener.close();
    io.run_for(20s);
    BOOST_TEST(io.stopped());
    BOOST_TEST((result.ec == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(destroying_the_acceptor_ends_the_rotation_and_touches_nothing)
{
    private_netns ns(3);
    asio::io_context io;
    const auto schedule = make_schedule(9, 100s);
    manual_clock::current = at(12345s);
    auto listener = std::make_unique<tcp::acceptor>(tfo::test::make_listener(io, tcp::v4(), 16));
    outcome result;
    rotate_on_manual_clock(*listener, schedule, result.handler());
    io.poll();
    listener.reset();
    manual_clock::current = at(12400s); // a boundary passes after the destruction
    io.run_for(20s);
    BOOST_TEST(io.stopped());
    BOOST_TEST((result.ec == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(a_boundary_already_due_when_the_acceptor_is_destroyed_touches_nothing)
{
    // The hard order: the boundary's completion is queued, then a handler
    // destroys the acceptor and a new listener takes its descriptor number,
    // then the boundary's handler runs, before the abort of the old
    // acceptor's wait. It must neither touch the dead acceptor (ASan) nor set
    // keys on the new listener.
    private_netns ns(3);
    asio::io_context io;
    const auto schedule = make_schedule(9, 100s);
    manual_clock::current = at(12345s);
    auto listener = std::make_unique<tcp::acceptor>(tfo::test::make_listener(io, tcp::v4(), 16));
    const int descriptor = listener->native_handle();
    outcome result;
    rotate_on_manual_clock(*listener, schedule, result.handler());
    io.poll(); // idle: only the reactor is queued

    manual_clock::current = at(12400s);
    std::optional<tcp::acceptor> successor;
    const tfo::fast_open_key successor_keys(std::vector<unsigned char>(16, 0x5a));
    // Queued behind the reactor, which will queue the boundary behind this.
    asio::post(io, [&] {
        listener.reset();
        successor.emplace(tfo::test::make_listener(io, tcp::v4(), 16));
        successor->set_option(successor_keys);
    });
    io.run_for(20s);
    BOOST_TEST(io.stopped());
    BOOST_TEST((result.ec == asio::error::operation_aborted));
    BOOST_REQUIRE(successor.has_value());
    BOOST_TEST(successor->native_handle() == descriptor); // the number was reused
    BOOST_TEST((installed_keys(*successor) == successor_keys));
}

BOOST_AUTO_TEST_CASE(cancellation_types)
{
    private_netns ns(3);
    asio::io_context io;
    const auto schedule = make_schedule(9, 100s);
    manual_clock::current = at(12345s);
    auto listener = tfo::test::make_listener(io, tcp::v4(), 16);

    for (const auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial})
    {
        asio::cancellation_signal stop;
        outcome result;
        rotate_on_manual_clock(listener, schedule, asio::bind_cancellation_slot(stop.slot(), result.handler()));
        io.restart();
        io.poll();
        stop.emit(type);
        // Ends, and withdraws its wait on the acceptor, which stays open:
        // the io_context runs out of work.
        io.restart();
        io.run_for(20s);
        BOOST_TEST(io.stopped());
        BOOST_TEST((result.ec == asio::error::operation_aborted));
        BOOST_TEST(listener.is_open());
    }

    // `total` is not honoured: the rotation goes on, until the acceptor closes.
    asio::cancellation_signal stop;
    outcome result;
    rotate_on_manual_clock(listener, schedule, asio::bind_cancellation_slot(stop.slot(), result.handler()));
    io.restart();
    io.poll();
    stop.emit(asio::cancellation_type::total);
    io.poll();
    manual_clock::current = at(12400s);
    BOOST_TEST(run_until(io, [&] { return installed_keys(listener) == schedule.keys_at(schedule_time(at(12400s))); }));
    BOOST_TEST(!result.ec.has_value());
    listener.close();
    BOOST_TEST(run_until(io, [&] { return result.ec.has_value(); }));
    BOOST_TEST((result.ec == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(a_listener_that_stops_listening_ends_the_rotation)
{
    private_netns ns(3);
    asio::io_context io;
    auto listener = tfo::test::make_listener(io, tcp::v4(), 16);
    outcome result;
    tfo::async_rotate_keys(listener, make_schedule(9, 3600s), result.handler());
    io.poll();
    // shutdown() on a listener stops it listening; the socket stays open.
    ::shutdown(listener.native_handle(), SHUT_RDWR);
    io.run_for(20s);
    BOOST_TEST(io.stopped());
    BOOST_TEST((result.ec == asio::error::invalid_argument), result.ec.value_or(boost::system::error_code()).message());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_key_schedule
