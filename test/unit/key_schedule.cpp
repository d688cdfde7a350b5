//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
#include <tfo/key_schedule.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <cstdio>
#include <fstream>
#include <future>
#include <optional>
#include <utility>
#include <numeric>
#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_key_schedule)

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = tfo::key_schedule::clock;

namespace {

std::vector<unsigned char> secret_bytes(std::size_t n = 32)
{
    std::vector<unsigned char> v(n);
    std::iota(v.begin(), v.end(), static_cast<unsigned char>(0));
    return v;
}

std::string hex(std::span<const unsigned char> bytes)
{
    std::string s;
    char buf[3];
    for (unsigned char b : bytes)
    {
        std::snprintf(buf, sizeof buf, "%02x", b);
        s += buf;
    }
    return s;
}

} // namespace

// Known answers, computed independently with Python's hmac module:
// HMAC-SHA256(bytes(range(32)), b"tfo-fastopen-key-v1" + i.to_bytes(8, "big"))[:16]
BOOST_AUTO_TEST_CASE(derivation_known_answers)
{
    tfo::key_schedule schedule(secret_bytes(), 3600s);
    BOOST_TEST(hex(schedule.key_of_period(0).primary()) == "3a8180a39e34130b8b2318a94d3fa05b");
    BOOST_TEST(hex(schedule.key_of_period(5).primary()) == "e87a42d34b02d62d95a54ae6035e240b");
    BOOST_TEST(hex(schedule.key_of_period(1000).primary()) == "1a0e567e8900d800421d78816f877117");
    BOOST_TEST(!schedule.key_of_period(5).has_backup());
}

BOOST_AUTO_TEST_CASE(same_secret_same_keys_other_secret_other_keys)
{
    tfo::key_schedule a(secret_bytes(), 60s), b(secret_bytes(), 60s);
    auto other_secret = secret_bytes();
    other_secret[0] ^= 1;
    tfo::key_schedule c(other_secret, 60s);
    const auto t = clock_type::now();
    BOOST_TEST((a.keys_at(t) == b.keys_at(t)));
    BOOST_TEST(!(a.keys_at(t) == c.keys_at(t)));
}

BOOST_AUTO_TEST_CASE(periods_and_rotation_times)
{
    tfo::key_schedule schedule(secret_bytes(), 100s);
    const clock_type::time_point t(std::chrono::seconds(12345));
    BOOST_TEST(schedule.period_at(t) == 123u);
    BOOST_TEST((schedule.next_rotation(t) == clock_type::time_point(std::chrono::seconds(12400))));
    BOOST_TEST(schedule.period_at(clock_type::time_point(std::chrono::seconds(12400))) == 124u);
    BOOST_TEST(schedule.period() == 100s);
}

BOOST_AUTO_TEST_CASE(keys_at_holds_current_and_previous)
{
    tfo::key_schedule schedule(secret_bytes(), 100s);
    const clock_type::time_point t(std::chrono::seconds(12345));
    const auto keys = schedule.keys_at(t);
    BOOST_TEST(keys.has_backup());
    BOOST_TEST(hex(keys.primary()) == hex(schedule.key_of_period(123).primary()));
    BOOST_TEST(hex(keys.backup()) == hex(schedule.key_of_period(122).primary()));
    // One period later the old primary becomes the backup.
    const auto next = schedule.keys_at(t + 100s);
    BOOST_TEST(hex(next.backup()) == hex(keys.primary()));
}

BOOST_AUTO_TEST_CASE(bad_secrets_and_periods)
{
    boost::system::error_code ec;
    BOOST_TEST(!tfo::key_schedule::create(secret_bytes(15), 60s, ec).has_value());
    BOOST_TEST((ec == tfo::error::secret_too_short));
    BOOST_TEST(!tfo::key_schedule::create(secret_bytes(), 0s, ec).has_value());
    BOOST_TEST((ec == tfo::error::invalid_period));
    BOOST_TEST(!tfo::key_schedule::create(secret_bytes(), -5s, ec).has_value());
    BOOST_TEST((ec == tfo::error::invalid_period));
    BOOST_CHECK_THROW(tfo::key_schedule(secret_bytes(3), 60s), boost::system::system_error);
    BOOST_CHECK_THROW(tfo::key_schedule(secret_bytes(), 0s), boost::system::system_error);

    const auto good = tfo::key_schedule::create(secret_bytes(16), 60s, ec);
    BOOST_TEST(!ec);
    BOOST_REQUIRE(good.has_value());
    BOOST_TEST(good->period() == 60s);
}

BOOST_AUTO_TEST_CASE(a_moved_from_schedule_keeps_its_secret)
{
    // A move copies: no schedule is ever left without a secret, so none can
    // derive keys from an empty one.
    tfo::key_schedule a(secret_bytes(), 3600s);
    tfo::key_schedule b(std::move(a));
    tfo::key_schedule c(secret_bytes(20), 60s);
    c = std::move(b);
    BOOST_TEST(hex(a.key_of_period(5).primary()) == "e87a42d34b02d62d95a54ae6035e240b"); // NOLINT(bugprone-use-after-move)
    BOOST_TEST(hex(b.key_of_period(5).primary()) == "e87a42d34b02d62d95a54ae6035e240b"); // NOLINT(bugprone-use-after-move)
    BOOST_TEST(hex(c.key_of_period(5).primary()) == "e87a42d34b02d62d95a54ae6035e240b");
}

BOOST_AUTO_TEST_CASE(assignment_keeps_the_right_secret)
{
    tfo::key_schedule a(secret_bytes(), 100s);
    auto other = secret_bytes();
    other[5] ^= 0xff;
    tfo::key_schedule b(other, 50s);
    const auto expected = hex(a.key_of_period(3).primary());
    b = a;
    BOOST_TEST(hex(b.key_of_period(3).primary()) == expected);
    BOOST_TEST(b.period() == 100s);
    tfo::key_schedule c(other, 50s);
    c = std::move(b);
    BOOST_TEST(hex(c.key_of_period(3).primary()) == expected);
}

BOOST_AUTO_TEST_CASE(secret_from_a_file)
{
    const std::string path = "tfo_test_secret.bin";
    {
        std::ofstream out(path, std::ios::binary);
        const auto s = secret_bytes();
        out.write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
    }
    auto schedule = tfo::key_schedule::from_file(path, 3600s);
    BOOST_TEST(hex(schedule.key_of_period(5).primary()) == "e87a42d34b02d62d95a54ae6035e240b");
    boost::system::error_code ec;
    BOOST_TEST(!tfo::key_schedule::from_file(path, 0s, ec).has_value());
    BOOST_TEST((ec == tfo::error::invalid_period));
    const auto same = tfo::key_schedule::from_file(path, 3600s, ec);
    BOOST_TEST(!ec);
    BOOST_REQUIRE(same.has_value());
    BOOST_TEST(hex(same->key_of_period(5).primary()) == "e87a42d34b02d62d95a54ae6035e240b");
    std::remove(path.c_str());

    BOOST_TEST(!tfo::key_schedule::from_file("/nonexistent/tfo/secret", 3600s, ec).has_value());
    BOOST_TEST((ec == tfo::error::secret_unreadable));
    BOOST_TEST(!tfo::key_schedule::from_file("/", 3600s, ec).has_value()); // a directory
    BOOST_TEST((ec == tfo::error::secret_unreadable));
    BOOST_CHECK_THROW(tfo::key_schedule::from_file("/nonexistent/tfo/secret", 3600s), boost::system::system_error);
}

namespace {

// What a rotation on `acceptor` completes with, and whether it completed
// inside the initiating call.
std::pair<boost::system::error_code, bool> rotation_result(asio::io_context& io, asio::ip::tcp::acceptor& acceptor)
{
    std::optional<boost::system::error_code> result;
    tfo::async_rotate_keys(acceptor, tfo::key_schedule(secret_bytes(), 60s),
                           [&](boost::system::error_code ec) { result = ec; });
    const bool inline_completion = result.has_value();
    io.run_for(5s);
    return {result.value_or(asio::error::timed_out), inline_completion};
}

} // namespace

BOOST_AUTO_TEST_CASE(rotation_needs_an_open_listening_acceptor)
{
    asio::io_context io;
    asio::ip::tcp::acceptor closed(io);
    const auto [on_closed, inline_closed] = rotation_result(io, closed);
    BOOST_TEST((on_closed == asio::error::bad_descriptor), on_closed.message());
    BOOST_TEST(!inline_closed);

    // Open but not listening (no network needed): the rotation would have
    // nothing to follow, and accept() would fail the same way.
    io.restart();
    asio::ip::tcp::acceptor not_listening(io, asio::ip::tcp::v4());
    const auto [on_open, inline_open] = rotation_result(io, not_listening);
    BOOST_TEST((on_open == asio::error::invalid_argument), on_open.message());
    BOOST_TEST(!inline_open);
}

// Compile-only: every completion style instantiates.
[[maybe_unused]] void instantiate_everything(asio::ip::tcp::acceptor& acceptor, const tfo::key_schedule& schedule)
{
    tfo::async_rotate_keys(acceptor, schedule, asio::detached);
    tfo::async_rotate_keys(acceptor, schedule, [](boost::system::error_code) {});
    std::future<void> f = tfo::async_rotate_keys(acceptor, schedule, asio::use_future);
    auto d = tfo::async_rotate_keys(acceptor, schedule, asio::deferred);
    std::move(d)([](boost::system::error_code) {});
    asio::cancellation_signal stop;
    tfo::async_rotate_keys(acceptor, schedule, asio::bind_cancellation_slot(stop.slot(), asio::detached));
    [[maybe_unused]] auto coro = [](asio::ip::tcp::acceptor& a, tfo::key_schedule s) -> asio::awaitable<void> {
        co_await tfo::async_rotate_keys(a, s, asio::use_awaitable);
    };
}

BOOST_AUTO_TEST_SUITE_END() // unit_key_schedule
