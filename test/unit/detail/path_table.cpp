//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// detail::path_table without a service: keys, the flat index against a
// reference map under random inserts and erases, and what goes when full.

#include <tfo/detail/path_table.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <random>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_detail_path_table)

namespace asio = boost::asio;
using asio::ip::tcp;
using tfo::detail::key_of;
using tfo::detail::path_table;

namespace {

tcp::endpoint v4(std::uint32_t address, unsigned short port)
{
    return {asio::ip::address_v4(address), port};
}

} // namespace

BOOST_AUTO_TEST_CASE(keys_tell_destinations_apart)
{
    const auto a = asio::ip::make_address("192.0.2.1");
    BOOST_TEST((key_of({a, 443}) == key_of({a, 443})));
    BOOST_TEST(!(key_of({a, 443}) == key_of({a, 80})), "the port");
    BOOST_TEST(!(key_of({a, 443}) == key_of({asio::ip::make_address("::ffff:192.0.2.1"), 443})),
               "an IPv4-mapped IPv6 address is another destination");
    auto scoped = asio::ip::make_address_v6("fe80::1");
    const tcp::endpoint plain{scoped, 443};
    scoped.scope_id(2);
    BOOST_TEST(!(key_of(plain) == key_of({scoped, 443})), "the IPv6 scope");
}

// What a key says of its address, as the kernel's table is searched by it.
BOOST_AUTO_TEST_CASE(keys_give_back_their_address)
{
    const auto four = asio::ip::make_address_v4("192.0.2.1");
    const auto k4 = key_of({four, 443});
    BOOST_TEST(k4.address_length() == 4u);
    const auto b4 = four.to_bytes();
    BOOST_TEST(std::equal(b4.begin(), b4.end(), k4.address()));
    const auto six = asio::ip::make_address_v6("2001:db8::7");
    const auto k6 = key_of({six, 443});
    BOOST_TEST(k6.address_length() == 16u);
    const auto b6 = six.to_bytes();
    BOOST_TEST(std::equal(b6.begin(), b6.end(), k6.address()));
}

// The index under churn: every record inserted and not erased is found, and
// no erased one is (backward-shift deletion keeps probe runs whole).
BOOST_AUTO_TEST_CASE(index_matches_a_reference_map)
{
    const tfo::path_memory_options o;
    path_table t(100'000);
    std::map<std::uint32_t, std::uint32_t> reference; // address -> successes
    std::mt19937 random(7);
    for (int step = 0; step < 50'000; ++step)
    {
        const std::uint32_t address = random() % 3000; // collisions and reuse
        const auto key = key_of(v4(address, 443));
        if (random() % 3 == 0)
        {
            t.erase(key);
            reference.erase(address);
        }
        else if (auto* r = t.find(key))
            r->successes = ++reference[address];
        else
        {
            BOOST_TEST_REQUIRE(!reference.contains(address));
            t.insert(key, o).record->successes = ++reference[address];
        }
    }
    BOOST_TEST(t.size() == reference.size());
    for (std::uint32_t address = 0; address < 3000; ++address)
    {
        const auto* r = t.find(key_of(v4(address, 443)));
        const auto it = reference.find(address);
        BOOST_TEST_REQUIRE((r != nullptr) == (it != reference.end()), "address " << address);
        if (r)
            BOOST_TEST(r->successes == it->second);
    }
    t.clear();
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(!t.find(key_of(v4(1, 443))));
}

// A hint from the advice finds the record without a lookup, and a stale one
// (the record gone, its place taken by another destination) is not believed.
BOOST_AUTO_TEST_CASE(hints)
{
    const tfo::path_memory_options o;
    path_table t(8);
    const auto a = key_of(v4(1, 1));
    const auto b = key_of(v4(2, 1));
    const auto made = t.insert(a, o);
    BOOST_TEST(made.hint != 0u);
    BOOST_TEST(t.at(made.hint) == made.record);
    BOOST_TEST(t.find(a) == made.record);
    BOOST_TEST(t.use(a, o).hint == made.hint);
    t.erase(a);
    BOOST_TEST(!t.at(made.hint), "gone");
    BOOST_TEST(!t.find(a), "gone");
    const auto other = t.insert(b, o);
    BOOST_TEST(static_cast<std::uint32_t>(other.hint) == static_cast<std::uint32_t>(made.hint),
               "the free place is taken again");
    BOOST_TEST(other.hint != made.hint, "by a record of another stamp");
    BOOST_TEST(!t.at(made.hint), "another destination's record is not a's");
    BOOST_TEST(t.at(other.hint) == other.record);
    BOOST_TEST(t.find(b) == other.record);
    BOOST_TEST(!t.at(1000u), "a hint out of range");
    BOOST_TEST(!t.at(0u), "no hint");
    t.clear();
    BOOST_TEST(!t.at(other.hint), "cleared");
    const auto again = t.insert(b, o);
    BOOST_TEST(!t.at(other.hint), "the same destination at the same place, made anew: an old hint names nothing");
    BOOST_TEST(t.at(again.hint) == again.record);
}

// The RTT of another port of the same address, for a new destination.
BOOST_AUTO_TEST_CASE(round_trip_time_of_the_address)
{
    const tfo::path_memory_options o;
    path_table t(8);
    const auto a443 = key_of(v4(7, 443));
    BOOST_TEST(t.address_rtt(a443) == 0u, "nothing known");
    t.insert(a443, o).record->rtt_us = 20'000;
    BOOST_TEST(t.address_rtt(key_of(v4(7, 80))) == 20'000u, "another port");
    BOOST_TEST(t.address_rtt(key_of(v4(8, 443))) == 0u, "another address");
    t.insert(key_of(v4(7, 80)), o); // no sample yet: the one with a sample still speaks
    BOOST_TEST(t.address_rtt(key_of(v4(7, 8080))) == 20'000u);
    t.erase(a443);
    t.erase(key_of(v4(7, 80)));
    BOOST_TEST(t.address_rtt(key_of(v4(7, 8080))) == 0u, "gone with its records");
}

// Full: a new record enters the window (capacity/16), a second use moves it
// to main, and a record with something against Fast Open is never the one
// that goes while a healthy one can.
BOOST_AUTO_TEST_CASE(window_and_main)
{
    const tfo::path_memory_options o;
    path_table t(32); // a window of 2
    for (std::uint32_t i = 0; i < 32; ++i)
        t.insert(key_of(v4(i, 1)), o);
    BOOST_TEST(t.window_size() == 0u, "room for everyone: all main");
    t.find(key_of(v4(0, 1)))->losses = 1; // bad: kept
    t.insert(key_of(v4(100, 1)), o);
    t.insert(key_of(v4(101, 1)), o);
    BOOST_TEST(t.window_size() == 2u);
    BOOST_TEST(t.size() == 32u);
    BOOST_TEST(t.find(key_of(v4(0, 1))), "the bad record stayed");
    BOOST_TEST(!t.find(key_of(v4(1, 1))), "the first healthy records made the window");
    BOOST_TEST(!t.find(key_of(v4(2, 1))));
    BOOST_TEST(t.in_window(key_of(v4(100, 1))));

    t.insert(key_of(v4(102, 1)), o); // the window's oldest goes
    BOOST_TEST(!t.find(key_of(v4(100, 1))));
    BOOST_TEST(t.in_window(key_of(v4(101, 1))));

    BOOST_TEST(t.use(key_of(v4(101, 1)), o).record != nullptr); // a second connect: to main
    BOOST_TEST(!t.in_window(key_of(v4(101, 1))));
    BOOST_TEST(t.window_size() == 2u, "a main record took its window place");
    BOOST_TEST(t.size() == 32u);

    // A bad record leaving the window goes to main instead.
    t.insert(key_of(v4(103, 1)), o);
    t.find(key_of(v4(103, 1)))->refusals = 1;
    for (std::uint32_t i = 200; i < 204; ++i)
        t.insert(key_of(v4(i, 1)), o);
    BOOST_TEST(t.find(key_of(v4(103, 1))), "kept, in main");
    BOOST_TEST(!t.in_window(key_of(v4(103, 1))));
    BOOST_TEST(t.size() == 32u);
    BOOST_TEST(t.memory_bytes() > 0u);
}

// A table of one: every new destination replaces the one before, except a
// bad one, which stays until a healthy one could go instead.
BOOST_AUTO_TEST_CASE(capacity_of_one)
{
    const tfo::path_memory_options o;
    path_table t(0);
    t.insert(key_of(v4(1, 1)), o);
    t.insert(key_of(v4(2, 1)), o);
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(t.find(key_of(v4(2, 1))));
    BOOST_TEST(t.use(key_of(v4(2, 1)), o).record != nullptr, "a window record alone moves to main");
    t.find(key_of(v4(2, 1)))->losses = 1;
    t.insert(key_of(v4(3, 1)), o);
    BOOST_TEST(t.size() == 1u);
    BOOST_TEST(t.find(key_of(v4(3, 1))), "nothing else could go: the bad one went");
}

BOOST_AUTO_TEST_SUITE_END()
