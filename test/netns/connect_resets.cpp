//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::async_fastopen_connect and fastopen_connect when the connection is
// reset after the server took the SYN's data: the count reports what the
// server read, and a sequence never delivers the request a second time.
// Checked on kernel evidence: TCP_INFO, TcpExt counters, nftables counters.

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/detail/platform.hpp>

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <boost/asio/read.hpp>

#include <string>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_connect_resets)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;

namespace {

const std::string payload = random_bytes(1000, 14); // fits in one SYN

// The server takes the next connection, reads `n` bytes, and resets it
// (SO_LINGER 0), all before the client's event loop looks at its socket.
std::string read_then_reset(tcp::acceptor& acceptor, std::size_t n)
{
    tcp::socket s = acceptor.accept();
    std::string got(n, '\0');
    asio::read(s, asio::buffer(got));
    s.set_option(asio::socket_base::linger(true, 0));
    s.close();
    return got;
}

} // namespace

BOOST_AUTO_TEST_SUITE(resets, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_FIXTURE_TEST_CASE(reset_after_the_server_read_the_syn_data, cookie_cached)
{
    const auto before = tfo::kernel_counters();
    tcp::socket client(io);
    boost::system::error_code result;
    std::size_t written = 0;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(payload),
                                [&](boost::system::error_code ec, std::size_t n) {
                                    result = ec;
                                    written = n;
                                });
    const std::string got = read_then_reset(acceptor, payload.size());
    io.restart();
    io.run();
    BOOST_TEST((result == asio::error::connection_reset), result.message());
    BOOST_TEST(got == payload);
    BOOST_TEST(written == got.size(), "bytes_written is what the server read");
    BOOST_TEST(tfo::get_fast_open_info(client).syn_data_acked, "the request rode in the SYN");
    const auto counted = tfo::kernel_counters() - before;
    BOOST_TEST(counted.active == 1u);
    BOOST_TEST(counted.passive == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_reset_after_the_handshake_ends_the_sequence, cookie_cached)
{
    auto second = make_listener(io, tcp::v4(), 16);
    const std::vector<tcp::endpoint> endpoints{acceptor.local_endpoint(), second.local_endpoint()};
    const auto before = tfo::kernel_counters();
    tcp::socket client(io);
    boost::system::error_code result;
    tcp::endpoint connected_to;
    std::size_t written = 0;
    tfo::async_fastopen_connect(client, endpoints, asio::buffer(payload),
                                [&](boost::system::error_code ec, tcp::endpoint ep, std::size_t n) {
                                    result = ec;
                                    connected_to = ep;
                                    written = n;
                                });
    const std::string got = read_then_reset(acceptor, payload.size());
    io.restart();
    io.run();
    BOOST_TEST((result == asio::error::connection_reset), result.message());
    BOOST_TEST((connected_to == endpoints[0]), "the endpoint that took the request");
    BOOST_TEST(written == got.size());
    BOOST_TEST(got == payload);

    // The second endpoint received nothing: no connection to accept, and the
    // namespace saw exactly one SYN with data accepted.
    second.non_blocking(true);
    boost::system::error_code ec;
    second.accept(ec);
    BOOST_TEST((ec == asio::error::would_block), ec.message());
    BOOST_TEST((tfo::kernel_counters() - before).passive == 1u);
}

BOOST_FIXTURE_TEST_CASE(synchronous_form_counts_what_the_server_read, cookie_cached)
{
    // Answer the client's final ACK with a reset: the server already holds
    // the SYN's data, the client sees the reset as soon as it looks.
    private_netns::nft("table inet tfo_reset { chain input { type filter hook input priority 0; tcp dport " +
                       std::to_string(acceptor.local_endpoint().port()) +
                       " tcp flags & (syn | ack | fin | rst) == ack counter reject with tcp reset; }; }");
    const auto before = tfo::kernel_counters();
    tcp::socket client(io);
    boost::system::error_code ec;
    const std::size_t written = tfo::fastopen_connect(client, acceptor.local_endpoint(), asio::buffer(payload), ec);
    BOOST_TEST((ec == asio::error::connection_reset), ec.message());

    tcp::socket server = acceptor.accept();
    std::string got(payload.size(), '\0');
    asio::read(server, asio::buffer(got));
    BOOST_TEST(got == payload, "the server application read the request");
    BOOST_TEST(written == got.size());
    BOOST_TEST((tfo::kernel_counters() - before).passive == 1u);
    BOOST_TEST(private_netns::run("nft list table inet tfo_reset | grep -q 'packets [1-9]'") == 0,
               "the rule answered the final ACK");
}

// Readiness is not an answer: a wake-up while the SYN is still outstanding
// (stale readiness from a reactor slot's earlier descriptor, or a spurious
// one) must read as "unanswered", not as established with SO_ERROR 0. The
// platform read is given exactly what a stale wake-up gives it: no wait
// error, the SYN still in SYN-SENT.
BOOST_FIXTURE_TEST_CASE(a_wake_up_before_the_answer_is_not_an_answer, cookie_cached)
{
    blackhole_port(acceptor.local_endpoint().port());
    for (const bool with_data : {true, false})
    {
        tcp::socket client(io);
        client.open(tcp::v4());
        const auto to = acceptor.local_endpoint();
        const asio::const_buffer data = with_data ? asio::buffer(payload) : asio::const_buffer();
        const auto sent = tfo::detail::platform::send_syn(client.native_handle(), to.data(), to.size(), &data, 1);
        BOOST_TEST_REQUIRE((sent.outcome == tfo::detail::syn_send_outcome::syn_sent));
        BOOST_TEST(sent.bytes == (with_data ? payload.size() : 0u));
        BOOST_TEST_REQUIRE((tfo::get_fast_open_info(client).state == tfo::tcp_state::syn_sent));

        const auto h = tfo::detail::platform::read_handshake_outcome(client.native_handle(), {});
        BOOST_TEST(h.unanswered);
        BOOST_TEST(!h.established, "SO_ERROR 0 in SYN-SENT is not a connection");
        BOOST_TEST(!h.ec);
        BOOST_TEST((tfo::get_fast_open_info(client).state == tfo::tcp_state::syn_sent), "nothing was disturbed");
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_connect_resets
