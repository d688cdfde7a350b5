//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Where tfo has no Fast Open (the portable side of the platform seam: Windows,
// run here under Wine), the same calls connect and write the ordinary way
// (async_fastopen_connect, fastopen_connect, fast_open_stream):
// every byte arrives once and in order, the options fail with a clear error,
// and the evidence says "not available here". Client and server on loopback.
//

#include <tfo/tfo.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(loopback_fallback)

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Far beyond what a loopback connection needs, so that a hang fails the test
// instead of the whole run.
constexpr std::chrono::seconds deadline{20};

std::string pattern(std::size_t n, unsigned seed)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>((i * 31 + seed) % 251);
    return s;
}

tcp::acceptor make_listener(asio::io_context& io)
{
    return tcp::acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
}

// Accepts one connection and reads it to the end.
struct sink
{
    explicit sink(tcp::acceptor& a) : acceptor(a) {}

    tcp::acceptor& acceptor;
    std::optional<tcp::socket> socket;
    std::string received;
    boost::system::error_code accept_error;
    boost::system::error_code read_error;
    boost::system::error_code info_error;

    void start()
    {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            accept_error = ec;
            if (ec)
                return;
            tfo::get_fast_open_info(s, info_error);
            socket.emplace(std::move(s));
            asio::async_read(*socket, asio::dynamic_buffer(received),
                             [this](boost::system::error_code ec, std::size_t) { read_error = ec; });
        });
    }

    void expect_received(const std::string& data) const
    {
        BOOST_TEST(!accept_error, accept_error.message());
        BOOST_TEST((read_error == asio::error::eof), read_error.message());
        BOOST_TEST(received.size() == data.size());
        BOOST_TEST((received == data), "every byte once and in order");
        BOOST_TEST((info_error == tfo::error::not_supported), info_error.message());
    }
};

// A request in three pieces, the middle one far larger than a socket buffer,
// so that the write after the connect takes many rounds.
struct request
{
    std::string head = "POST /upload HTTP/1.1\r\nHost: tfo.test\r\n\r\n";
    std::string body = pattern(4 << 20, 7);
    std::string tail = "\r\n";

    std::array<asio::const_buffer, 3> buffers() const
    {
        return {asio::buffer(head), asio::buffer(body), asio::buffer(tail)};
    }

    std::string whole() const { return head + body + tail; }
};

// A port on which nothing listens: connecting to it is refused.
tcp::endpoint closed_port(asio::io_context& io)
{
    return make_listener(io).local_endpoint(); // closed when the acceptor goes
}

} // namespace

BOOST_AUTO_TEST_CASE(async_connect_writes_every_byte)
{
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    sink server{acceptor};
    server.start();

    const request r;
    tcp::socket client(io);
    bool called = false;
    boost::system::error_code result;
    std::size_t written = 0;
    boost::system::error_code info_error;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), r.buffers(),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    called = true;
                                    result = ec;
                                    written = n;
                                    tfo::get_fast_open_info(client, info_error);
                                    client.shutdown(tcp::socket::shutdown_send, ec);
                                });
    BOOST_TEST(!called, "the handler ran inside the initiating call");
    io.run_for(deadline);

    BOOST_TEST(called);
    BOOST_TEST(!result, result.message());
    BOOST_TEST(written == r.whole().size());
    BOOST_TEST((info_error == tfo::error::not_supported), info_error.message());
    server.expect_received(r.whole());
}

BOOST_AUTO_TEST_CASE(sync_connect_writes_every_byte)
{
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    sink server{acceptor};
    server.start();
    // The server runs beside the blocking call, which needs it to read.
    std::thread server_thread([&] { io.run_for(deadline); });

    const request r;
    asio::io_context client_io;
    tcp::socket client(client_io);
    boost::system::error_code ec;
    const std::size_t written = tfo::fastopen_connect(client, acceptor.local_endpoint(), r.buffers(), ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(written == r.whole().size());
    client.shutdown(tcp::socket::shutdown_send, ec);
    server_thread.join();

    server.expect_received(r.whole());
}

BOOST_AUTO_TEST_CASE(sequence_moves_past_a_refused_endpoint)
{
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    sink server{acceptor};
    server.start();

    const std::string data = pattern(100'000, 3);
    const std::vector<tcp::endpoint> endpoints{closed_port(io), acceptor.local_endpoint()};
    tcp::socket client(io);
    bool called = false;
    tfo::async_fastopen_connect(client, endpoints, asio::buffer(data),
                                [&](boost::system::error_code ec, tcp::endpoint connected_to, std::size_t n) {
                                    called = true;
                                    BOOST_TEST(!ec, ec.message());
                                    BOOST_TEST((connected_to == acceptor.local_endpoint()));
                                    BOOST_TEST(n == data.size());
                                    client.shutdown(tcp::socket::shutdown_send, ec);
                                });
    io.run_for(deadline);

    BOOST_TEST(called);
    server.expect_received(data);
}

BOOST_AUTO_TEST_CASE(refused_connect_sends_nothing)
{
    asio::io_context io;
    const tcp::endpoint nobody = closed_port(io);
    tcp::socket client(io);
    bool called = false;
    tfo::async_fastopen_connect(client, nobody, asio::buffer("x", 1),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    called = true;
                                    BOOST_TEST((ec == asio::error::connection_refused), ec.message());
                                    BOOST_TEST(n == 0u);
                                });
    io.run_for(deadline);
    BOOST_TEST(called);

    tcp::socket sync_client(io);
    boost::system::error_code ec;
    BOOST_TEST(tfo::fastopen_connect(sync_client, nobody, asio::buffer("x", 1), ec) == 0u);
    BOOST_TEST((ec == asio::error::connection_refused), ec.message());
}

// A server or client written for Linux that asks for Fast Open is told
// plainly that the option does not exist here, and its socket stays usable.
BOOST_AUTO_TEST_CASE(options_fail_with_no_protocol_option)
{
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    boost::system::error_code ec;

    acceptor.set_option(tfo::fast_open{16}, ec);
    BOOST_TEST((ec == asio::error::no_protocol_option), ec.message());
    acceptor.set_option(tfo::fast_open_no_cookie{true}, ec);
    BOOST_TEST((ec == asio::error::no_protocol_option), ec.message());
    const std::array<unsigned char, tfo::fast_open_key::key_size> key{1, 2, 3};
    acceptor.set_option(tfo::fast_open_key{key}, ec);
    BOOST_TEST((ec == asio::error::no_protocol_option), ec.message());
    tfo::fast_open queue;
    acceptor.get_option(queue, ec);
    BOOST_TEST((ec == asio::error::no_protocol_option), ec.message());
    BOOST_CHECK_EXCEPTION(acceptor.set_option(tfo::fast_open{16}), boost::system::system_error,
                          [](const boost::system::system_error& e) {
                              return e.code() == asio::error::no_protocol_option;
                          });

    tcp::socket client(io, tcp::v4());
    client.set_option(tfo::fast_open_deferred_connect{true}, ec);
    BOOST_TEST((ec == asio::error::no_protocol_option), ec.message());

    // Both still work: the deferred connect is an ordinary one.
    sink server{acceptor};
    server.start();
    client.connect(acceptor.local_endpoint());
    const std::string data = "after the options failed";
    asio::write(client, asio::buffer(data));
    client.shutdown(tcp::socket::shutdown_send);
    io.run_for(deadline);
    server.expect_received(data);
}

BOOST_AUTO_TEST_CASE(evidence_says_not_available_here)
{
    boost::system::error_code ec;
    tfo::system_support(ec);
    BOOST_TEST((ec == tfo::error::sysctl_unavailable), ec.message());
    tfo::kernel_counters(ec);
    BOOST_TEST((ec == tfo::error::counters_unavailable), ec.message());
    BOOST_CHECK_EXCEPTION(tfo::system_support(), boost::system::system_error,
                          [](const boost::system::system_error& e) {
                              return e.code() == tfo::error::sysctl_unavailable;
                          });
    BOOST_CHECK_EXCEPTION(tfo::kernel_counters(), boost::system::system_error,
                          [](const boost::system::system_error& e) {
                              return e.code() == tfo::error::counters_unavailable;
                          });

    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    tfo::get_fast_open_info(acceptor, ec);
    BOOST_TEST((ec == tfo::error::not_supported), ec.message());
    BOOST_CHECK_EXCEPTION(tfo::get_fast_open_info(acceptor), boost::system::system_error,
                          [](const boost::system::system_error& e) {
                              return e.code() == tfo::error::not_supported;
                          });
}

// The stream's first write is a fast-open connect: here an ordinary one.
BOOST_AUTO_TEST_CASE(stream_write_first_delivers_every_byte)
{
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    sink server{acceptor};
    server.start();

    const request r;
    tfo::fast_open_stream stream(io, acceptor.local_endpoint());
    bool called = false;
    boost::system::error_code info_error;
    asio::async_write(stream, r.buffers(), [&](boost::system::error_code ec, std::size_t n) {
        called = true;
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST(n == r.whole().size());
        BOOST_TEST(stream.is_connected());
        tfo::get_fast_open_info(stream, info_error);
        stream.next_layer().shutdown(tcp::socket::shutdown_send, ec);
    });
    io.run_for(deadline);

    BOOST_TEST(called);
    BOOST_TEST((info_error == tfo::error::not_supported), info_error.message());
    server.expect_received(r.whole());
}

// A server that speaks first: the stream's first read connects, without data.
BOOST_AUTO_TEST_CASE(stream_read_first_connects_then_reads)
{
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    const std::string greeting = "220 tfo.test ready\r\n";
    std::optional<tcp::socket> peer;
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket s) {
        BOOST_TEST(!ec, ec.message());
        peer.emplace(std::move(s));
        asio::async_write(*peer, asio::buffer(greeting), [](boost::system::error_code, std::size_t) {});
    });

    tfo::fast_open_stream stream(io, acceptor.local_endpoint());
    std::string received(greeting.size(), '\0');
    bool called = false;
    asio::async_read(stream, asio::buffer(received), [&](boost::system::error_code ec, std::size_t n) {
        called = true;
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST(n == greeting.size());
    });
    io.run_for(deadline);

    BOOST_TEST(called);
    BOOST_TEST(received == greeting);
}

BOOST_AUTO_TEST_CASE(stream_sync_write_delivers_every_byte)
{
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io);
    sink server{acceptor};
    server.start();
    std::thread server_thread([&] { io.run_for(deadline); });

    const request r;
    asio::io_context client_io;
    tfo::fast_open_stream stream(client_io, acceptor.local_endpoint());
    boost::system::error_code ec;
    const std::size_t n = asio::write(stream, r.buffers(), ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(n == r.whole().size());
    stream.next_layer().shutdown(tcp::socket::shutdown_send, ec);
    server_thread.join();

    server.expect_received(r.whole());
}

BOOST_AUTO_TEST_CASE(no_kernel_path_record)
{
    boost::system::error_code ec;
    tfo::read_kernel_path_record(asio::ip::address_v4::loopback(), ec);
    BOOST_TEST((ec == tfo::error::not_supported), ec.message());
}

BOOST_AUTO_TEST_SUITE_END() // loopback_fallback
