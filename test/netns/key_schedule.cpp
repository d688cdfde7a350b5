// Fleet cookie keys in a private network namespace: listeners that share a
// secret accept each other's cookies, rotation keeps the previous key as
// backup, and async_rotate_keys follows the schedule on a timer.

#include <tfo/key_schedule.hpp>

#define BOOST_TEST_MODULE netns_key_schedule
#include <boost/test/unit_test.hpp>

#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
namespace ut = boost::unit_test;
using tfo::test::private_netns;
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

BOOST_AUTO_TEST_CASE(async_rotate_keys_follows_the_schedule_without_dropping_connections)
{
    private_netns ns(3);
    asio::io_context io;
    const auto schedule = make_schedule(9, 1s);
    auto listener = tfo::test::make_listener(io, tcp::v4(), 16);
    auto established = tfo::test::raw_connect_once(io, listener, request);

    asio::cancellation_signal stop;
    boost::system::error_code result;
    bool done = false;
    tfo::async_rotate_keys(listener, schedule,
                           asio::bind_cancellation_slot(stop.slot(), [&](boost::system::error_code ec) {
                               done = true;
                               result = ec;
                           }));
    io.poll(); // installs the first keys
    tfo::fast_open_key installed;
    listener.get_option(installed);
    const auto period_then = schedule.period_at(clock_type::now());
    BOOST_TEST((installed == schedule.keys_at(clock_type::now())));

    // A third of a period after the next boundary (well clear of the one
    // after), the listener holds the next period's keys.
    const auto check_in = schedule.next_rotation(clock_type::now()) - clock_type::now() + 333ms;
    asio::steady_timer timer(io, std::chrono::duration_cast<std::chrono::steady_clock::duration>(check_in));
    timer.async_wait([&](boost::system::error_code) {
        listener.get_option(installed);
        BOOST_TEST(schedule.period_at(clock_type::now()) > period_then);
        BOOST_TEST((installed == schedule.keys_at(clock_type::now())));
        BOOST_TEST(!done);
        stop.emit(asio::cancellation_type::terminal);
    });
    io.restart();
    io.run();
    BOOST_TEST(done);
    BOOST_TEST((result == asio::error::operation_aborted));

    // The connection made before the rotations still works both ways.
    asio::write(established.client, asio::buffer(request));
    std::string echo(request.size(), '\0');
    asio::read(established.server, asio::buffer(echo));
    BOOST_TEST(echo == request);
}

BOOST_AUTO_TEST_SUITE_END()
