//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::basic_fast_open_stream without a network: it meets the stream
// requirements, every completion style instantiates, and the outcomes that
// need no connection (no destination, a closed stream) are reported the
// Asio way. Real connections are in test/netns/fast_open_stream.cpp.
//

#include <tfo/fast_open_stream.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <array>
#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_fast_open_stream)

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

using stream_type = tfo::fast_open_stream;
using strand_stream = tfo::basic_fast_open_stream<asio::strand<asio::io_context::executor_type>>;

static_assert(beast::is_async_read_stream<stream_type>::value);
static_assert(beast::is_async_write_stream<stream_type>::value);
static_assert(beast::is_sync_read_stream<stream_type>::value);
static_assert(beast::is_sync_write_stream<stream_type>::value);
static_assert(beast::is_async_stream<strand_stream>::value);
static_assert(std::is_same_v<stream_type::lowest_layer_type, tcp::socket::lowest_layer_type>);
static_assert(std::is_same_v<stream_type::next_layer_type, tcp::socket>);
static_assert(std::is_nothrow_move_constructible_v<stream_type>);
static_assert(std::is_same_v<stream_type::rebind_executor<asio::io_context::executor_type>::other,
                             tfo::basic_fast_open_stream<asio::io_context::executor_type>>);

// ---------------------------------------------------------------------------
// Compile-only: every operation with every completion style instantiates.
// The function is never called.
[[maybe_unused]] void instantiate_everything(asio::io_context& io, const tcp::endpoint& ep,
                                             const tcp::resolver::results_type& results)
{
    stream_type s1(io.get_executor(), ep);
    stream_type s2(io, results);
    std::vector<tcp::endpoint> endpoints{ep, ep};
    stream_type stream(io, endpoints);
    stream.set_destination(results);
    stream.set_destination(ep);
    strand_stream on_strand(asio::make_strand(io), ep);

    std::string data = "hello";
    std::array<char, 16> space;
    auto out = asio::buffer(data);
    auto in = asio::buffer(space);
    std::array<asio::const_buffer, 2> gather{out, out};

    stream.async_write_some(out, [](boost::system::error_code, std::size_t) {});
    stream.async_write_some(gather, [](boost::system::error_code, std::size_t) {});
    stream.async_read_some(in, [](boost::system::error_code, std::size_t) {});
    on_strand.async_read_some(in, [](boost::system::error_code, std::size_t) {});
    asio::async_write(stream, out, [](boost::system::error_code, std::size_t) {});
    asio::async_read(stream, in, [](boost::system::error_code, std::size_t) {});

    std::future<std::size_t> f = stream.async_write_some(out, asio::use_future);
    (void)f;
    auto d = stream.async_read_some(in, asio::deferred);
    std::move(d)([](boost::system::error_code, std::size_t) {});
    stream.async_write_some(out, asio::bind_executor(asio::make_strand(io),
                                                     [](boost::system::error_code, std::size_t) {}));
    asio::cancellation_signal signal;
    stream.async_read_some(in, asio::bind_cancellation_slot(signal.slot(), [](boost::system::error_code, std::size_t) {}));

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::size_t n = co_await stream.async_write_some(out, asio::use_awaitable);
            auto [ec, n2] = co_await stream.async_read_some(in, asio::as_tuple(asio::use_awaitable));
            n += co_await asio::async_write(stream, out, asio::use_awaitable);
            (void)n, (void)ec, (void)n2;
        },
        asio::detached);

    stream.expires_after(std::chrono::seconds(1));
    stream.expires_at(std::chrono::steady_clock::now());
    stream.expires_never();
    stream.cancel();

    std::size_t n = stream.write_some(out);
    boost::system::error_code ec;
    n += stream.write_some(gather, ec);
    n += stream.read_some(in);
    n += stream.read_some(in, ec);
    (void)n;
    stream.close();
}

// ---------------------------------------------------------------------------

namespace {

struct result
{
    bool called = false;
    boost::system::error_code ec;
    std::size_t n = 0;
};

auto record(result& r)
{
    return [&r](boost::system::error_code ec, std::size_t n) {
        r.called = true;
        r.ec = ec;
        r.n = n;
    };
}

} // namespace

BOOST_AUTO_TEST_CASE(no_destination_is_not_connected_and_never_inline)
{
    asio::io_context io;
    stream_type stream(io);
    std::string data = "x";
    std::array<char, 4> space;
    result w, r;
    stream.async_write_some(asio::buffer(data), record(w));
    stream.async_read_some(asio::buffer(space), record(r));
    BOOST_TEST(!w.called, "the handler ran inside the initiating call");
    BOOST_TEST(!r.called);
    io.run();
    BOOST_TEST(w.called);
    BOOST_TEST((w.ec == asio::error::not_connected), w.ec.message());
    BOOST_TEST((r.ec == asio::error::not_connected), r.ec.message());
    BOOST_TEST(!stream.is_connected());
    BOOST_TEST(!stream.next_layer().is_open(), "nothing was opened");

    boost::system::error_code ec;
    BOOST_TEST(stream.write_some(asio::buffer(data), ec) == 0u);
    BOOST_TEST((ec == asio::error::not_connected));
    BOOST_CHECK_THROW(stream.read_some(asio::buffer(space)), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(closed_before_the_first_operation)
{
    asio::io_context io;
    stream_type stream(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 9));
    stream.close();
    std::string data = "x";
    result w;
    stream.async_write_some(asio::buffer(data), record(w));
    io.run();
    BOOST_TEST((w.ec == asio::error::bad_descriptor), w.ec.message());
    BOOST_TEST(!stream.next_layer().is_open());
    // A new destination makes it usable again.
    stream.set_destination(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 9));
    BOOST_TEST(stream.connect_endpoint() == tcp::endpoint());
}

BOOST_AUTO_TEST_CASE(expired_timeout_on_a_failed_stream_reports_the_stream_error)
{
    // With no connect to time out, the stored error wins over the timer
    // unless the timer fired first: either way the handler runs once.
    asio::io_context io;
    stream_type stream(io);
    stream.expires_after(std::chrono::seconds(30));
    std::array<char, 4> space;
    result r;
    stream.async_read_some(asio::buffer(space), record(r));
    io.run();
    BOOST_TEST(r.called);
    BOOST_TEST((r.ec == asio::error::not_connected), r.ec.message());
}

BOOST_AUTO_TEST_CASE(moved_stream_keeps_its_destination)
{
    asio::io_context io;
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 9);
    stream_type a(io, ep);
    stream_type b(std::move(a));
    stream_type c(io);
    c = std::move(b);
    BOOST_TEST(!c.is_connected());
    BOOST_TEST((c.get_executor() == asio::any_io_executor(io.get_executor())));
}

BOOST_AUTO_TEST_CASE(empty_sequence_is_not_found)
{
    asio::io_context io;
    stream_type stream(io, std::vector<tcp::endpoint>{});
    std::string data = "x";
    result w;
    stream.async_write_some(asio::buffer(data), record(w));
    io.run();
    BOOST_TEST((w.ec == asio::error::not_found), w.ec.message());
    BOOST_TEST(w.n == 0u);
    BOOST_TEST(stream.connect_endpoint() == tcp::endpoint());
    boost::system::error_code ec;
    stream.set_destination(std::vector<tcp::endpoint>{});
    BOOST_TEST(stream.write_some(asio::buffer(data), ec) == 0u);
    BOOST_TEST((ec == asio::error::not_found), ec.message());
}

BOOST_AUTO_TEST_SUITE_END() // unit_fast_open_stream
