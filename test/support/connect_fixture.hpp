//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Boost.Test glue shared by the tests of tfo::async_fastopen_connect in
// test/netns/connect_*.cpp: the fixtures (a private namespace with a Fast
// Open listener, with or without a cookie cached) and the one-connection
// helpers whose outcome carries the kernel's evidence.
//

#ifndef TFO_TEST_SUPPORT_CONNECT_FIXTURE_HPP
#define TFO_TEST_SUPPORT_CONNECT_FIXTURE_HPP

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/system.hpp>

#include "netns.hpp"
#include "raw_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <random>
#include <string>

namespace tfo::test {

namespace asio = boost::asio;
using asio::ip::tcp;

inline const std::string request = "GET /index.html HTTP/1.1\r\nHost: tfo.test\r\n\r\n";

inline std::string random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen());
    return s;
}

// Accepts one connection and reads it to the end, noting how much of the
// request was already there when accept returned (data that rode in the SYN
// is queued before the handshake finishes).
struct sink
{
    explicit sink(tcp::acceptor& a) : acceptor(a) {}

    tcp::acceptor& acceptor;
    std::optional<tcp::socket> socket;
    std::size_t readable_at_accept = 0;
    std::string received;
    tfo::fast_open_info info;

    void start()
    {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            BOOST_REQUIRE_MESSAGE(!ec, "accept: " << ec.message());
            readable_at_accept = s.available();
            info = tfo::get_fast_open_info(s);
            socket.emplace(std::move(s));
            asio::async_read(*socket, asio::dynamic_buffer(received),
                             [](boost::system::error_code ec, std::size_t) {
                                 BOOST_TEST((ec == asio::error::eof), ec.message());
                             });
        });
    }
};

// The next connection in the listener's queue, read to the end (its client
// has closed its side): what the server received, and its evidence.
struct received_connection
{
    std::string data;
    tfo::fast_open_info info;
};

inline received_connection read_next_connection(tcp::acceptor& acceptor)
{
    tcp::socket server = acceptor.accept();
    received_connection r;
    r.info = tfo::get_fast_open_info(server);
    boost::system::error_code ec;
    asio::read(server, asio::dynamic_buffer(r.data), ec);
    BOOST_TEST((ec == asio::error::eof), ec.message());
    return r;
}

struct outcome
{
    boost::system::error_code ec;
    std::size_t bytes = 0;
    std::string received;
    std::size_t readable_at_accept = 0;
    tfo::fast_open_info client;
    tfo::fast_open_info server;
    tfo::fast_open_counters counted;
};

// One async_fastopen_connect with a callback, the peer reading to the end.
template <typename Buffers>
outcome fastopen_once(tcp::acceptor& acceptor, const Buffers& buffers)
{
    auto& io = static_cast<asio::io_context&>(acceptor.get_executor().context());
    const auto before = tfo::kernel_counters();
    sink server{acceptor};
    server.start();
    tcp::socket client(io);
    outcome out;
    bool called = false;
    tfo::async_fastopen_connect(client, acceptor.local_endpoint(), buffers,
                                [&](boost::system::error_code ec, std::size_t n) {
                                    called = true;
                                    out.ec = ec;
                                    out.bytes = n;
                                    if (!ec)
                                        out.client = tfo::get_fast_open_info(client);
                                    client.shutdown(tcp::socket::shutdown_send, ec);
                                });
    BOOST_TEST(!called, "the handler ran inside the initiating call");
    io.restart();
    io.run();
    BOOST_TEST(called);
    out.received = std::move(server.received);
    out.readable_at_accept = server.readable_at_accept;
    out.server = server.info;
    out.counted = tfo::kernel_counters() - before;
    return out;
}

inline outcome fastopen_once(tcp::acceptor& acceptor, const std::string& data)
{
    return fastopen_once(acceptor, asio::buffer(data));
}

// The operation succeeded and the server read exactly `data`.
inline void expect_delivered(const outcome& o, const std::string& data)
{
    BOOST_TEST(!o.ec, o.ec.message());
    BOOST_TEST(o.bytes == data.size());
    BOOST_TEST(o.received.size() == data.size());
    BOOST_TEST((o.received == data), "every byte once and in order");
}

inline void expect_data_in_syn(const outcome& o, std::size_t in_syn)
{
    BOOST_TEST(o.counted.active == 1u);
    BOOST_TEST(o.counted.passive == 1u);
    BOOST_TEST(o.counted.cookie_reqd == 0u);
    BOOST_TEST(o.client.syn_data_acked);
    BOOST_TEST(o.server.syn_data_acked);
    BOOST_TEST(o.readable_at_accept >= in_syn);
}

inline void expect_no_tfo(const outcome& o)
{
    BOOST_TEST(o.counted.active == 0u);
    BOOST_TEST(o.counted.passive == 0u);
    BOOST_TEST(!o.client.syn_data_acked);
    BOOST_TEST(!o.server.syn_data_acked);
}

// A port on which nothing listens: connecting to it is refused.
inline tcp::endpoint closed_port(asio::io_context& io, const tcp& protocol = tcp::v4())
{
    auto acceptor = tfo::test::make_listener(io, protocol, 0);
    return acceptor.local_endpoint(); // closed when `acceptor` goes
}

// Drops every SYN to `port`: a connect to it stays pending.
inline void blackhole_port(unsigned short port)
{
    private_netns::nft("table inet tfo_blackhole { chain input { type filter hook input priority 0; tcp dport " +
                       std::to_string(port) + " tcp flags & (syn | ack) == syn drop; }; }");
}

// The middleboxes of the path-memory tests, in table `ip|inet tfo_middlebox`
// of the namespace's input chain, with a counter.
// (a) Drops SYNs that carry data: a SYN without data is at most 20 (IP) + 60
// (TCP with every option) bytes.
inline void drop_syns_with_data()
{
    private_netns::nft("table ip tfo_middlebox { chain input { type filter hook input priority 0; "
                       "tcp flags & (syn | ack) == syn ip length > 80 counter drop; }; }");
}

// (b) Drops every SYN with the Fast Open option, cookie requests included.
inline void drop_fast_open_syns()
{
    private_netns::nft("table inet tfo_middlebox { chain input { type filter hook input priority 0; "
                       "tcp flags & (syn | ack) == syn tcp option fastopen exists counter drop; }; }");
}

/// A private namespace (`net.ipv4.tcp_fastopen` = 3) with a Fast Open
/// listener on an ephemeral IPv4 loopback port; no cookie cached yet.
struct fast_open_listener
{
    private_netns ns{3};
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io, tcp::v4(), 16);
};

/// The same, after one connection got the client a cookie: the next
/// fast-open connect carries its data in the SYN.
struct cookie_cached : fast_open_listener
{
    cookie_cached() { fastopen_once(acceptor, request); }
};

} // namespace tfo::test

#endif
