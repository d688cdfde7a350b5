//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/detail/buffer_cursor.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_detail_buffer_cursor)

namespace asio = boost::asio;

BOOST_AUTO_TEST_CASE(cursor_walks_a_gather_sequence)
{
    const std::string a = "hello", b = "", c = "world!";
    std::array<asio::const_buffer, 3> seq{asio::buffer(a), asio::buffer(b), asio::buffer(c)};
    tfo::detail::buffer_cursor<decltype(seq)> cursor(seq);
    BOOST_TEST(cursor.total() == 11u);
    auto p = cursor.prepare();
    BOOST_TEST(p.count() == 2u); // the empty buffer is skipped
    cursor.consume(3);
    p = cursor.prepare();
    BOOST_TEST(asio::buffer_size(p) == 8u);
    BOOST_TEST(std::string(static_cast<const char*>(p.begin()->data()), p.begin()->size()) == "lo");
    cursor.consume(2);
    p = cursor.prepare();
    BOOST_TEST(p.count() == 1u);
    BOOST_TEST(std::string(static_cast<const char*>(p.begin()->data()), p.begin()->size()) == "world!");
    cursor.consume(100);
    BOOST_TEST(cursor.done());
    BOOST_TEST(cursor.consumed() == 11u);
    BOOST_TEST(cursor.prepare().count() == 0u);
    cursor.rewind();
    BOOST_TEST(cursor.consumed() == 0u);
    BOOST_TEST(asio::buffer_size(cursor.prepare()) == 11u);
}

BOOST_AUTO_TEST_CASE(cursor_prepares_at_most_64_buffers)
{
    std::vector<std::string> parts(100, "x");
    std::vector<asio::const_buffer> seq;
    for (auto& s : parts)
        seq.push_back(asio::buffer(s));
    tfo::detail::buffer_cursor<std::vector<asio::const_buffer>> cursor(seq);
    BOOST_TEST(cursor.prepare().count() == 64u);
    cursor.consume(64);
    BOOST_TEST(cursor.prepare().count() == 36u);
}

BOOST_AUTO_TEST_CASE(cursor_survives_moves)
{
    // A single const_buffer lives inside the cursor: positions must be indices.
    const std::string text = "abcdef";
    tfo::detail::buffer_cursor<asio::const_buffer> c1(asio::buffer(text));
    c1.consume(2);
    auto c2 = std::move(c1);
    auto p = c2.prepare();
    BOOST_TEST(std::string(static_cast<const char*>(p.begin()->data()), p.begin()->size()) == "cdef");
}

// What a driver hands to a write: a copy holds the prepared buffers, and
// only those; seeking lands on the byte asked for, back or forth.
BOOST_AUTO_TEST_CASE(prepared_buffers_copy_and_seek)
{
    const std::string a = "abc", b = "defgh";
    std::array<asio::const_buffer, 2> seq{asio::buffer(a), asio::buffer(b)};
    tfo::detail::buffer_cursor<std::array<asio::const_buffer, 2>> cursor(seq);
    cursor.seek(4);
    const tfo::detail::prepared_buffers p = cursor.prepare();
    tfo::detail::prepared_buffers copy = p;
    const tfo::detail::prepared_buffers& same = copy;
    copy = same; // self-assignment keeps them
    BOOST_TEST(copy.count() == 1u);
    BOOST_TEST(std::string(static_cast<const char*>(copy.begin()->data()), copy.begin()->size()) == "efgh");
    cursor.seek(1);
    BOOST_TEST(cursor.consumed() == 1u);
    BOOST_TEST(cursor.prepare().count() == 2u);
    BOOST_TEST(cursor.prepare().begin()->size() == 2u, "from the second byte of the first buffer");
    cursor.seek(8);
    BOOST_TEST(cursor.done());
}

BOOST_AUTO_TEST_SUITE_END() // unit_detail_buffer_cursor
