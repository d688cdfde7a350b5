//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// TLS 1.3 early data over TCP Fast Open, our client against our server, in
// private network namespaces: the session cache, the first flight in the
// SYN, acceptance, refusal and resending, the limits, anti-replay. Proved by
// the kernel (TCP_INFO, TcpExt counters), by OpenSSL on both sides
// (SSL_get_early_data_status) and by the server's answer, which says
// whether it processed the request as early data.
//

#include <tfo/ssl/early_data.hpp>
#include <tfo/ssl/session_cache.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/fast_open_stream.hpp>
#include "completion.hpp"
#include "netns.hpp"
#include "raw_client.hpp"
#include "tls_identity.hpp"
#include "tls_line_server.hpp"

#include <tfo/fast_open_info.hpp>
#include <tfo/system.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <exception>
#include <memory>
#include <string>
#include <thread>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_ssl_early_data)

namespace asio = boost::asio;
using tfo::test::rethrow;
namespace ssl = asio::ssl;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using tfo::test::private_netns;

namespace {

ssl::context server_context(const tfo::test::tls_identity& id, std::uint32_t max_early_data)
{
    return tfo::test::make_server_context(id, max_early_data);
}

ssl::context client_context(const tfo::test::tls_identity& id)
{
    return tfo::test::make_client_context(id);
}

// What the client saw of one connection.
struct fetched
{
    tfo::ssl::early_data_outcome outcome;
    std::string reply;
    tfo::fast_open_info info;
    bool early_accepted = false; // SSL_get_early_data_status on the client
};

template <typename NextLayer>
asio::awaitable<void> fetch_on(ssl::stream<NextLayer>& stream, tfo::ssl::session_cache& cache, unsigned short port,
                               const std::string& request, tfo::ssl::replay_safety safety, fetched& out)
{
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.set_verify_callback(ssl::host_name_verification("localhost"));
    cache.resume(stream, "localhost", port);

    out.outcome = co_await tfo::ssl::async_handshake_and_write(stream, asio::buffer(request), safety,
                                                               asio::use_awaitable);
    out.early_accepted = tfo::ssl::early_data_accepted(stream);
    co_await asio::async_read_until(stream, asio::dynamic_buffer(out.reply), '\n', asio::use_awaitable);
    out.reply.resize(out.reply.find('\n'));
    out.info = tfo::get_fast_open_info(stream.lowest_layer());
    // Waits for the server's close_notify; the tickets it sent come in meanwhile.
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

enum class transport
{
    fast_open, // the first flight is the fast-open connect's data
    connected  // an ordinary connect first: early data without Fast Open
};

asio::awaitable<void> fetch(tcp::endpoint server, ssl::context& context, tfo::ssl::session_cache& cache,
                            std::string request, tfo::ssl::replay_safety safety, transport how, fetched& out)
{
    const auto executor = co_await asio::this_coro::executor;
    if (how == transport::fast_open)
    {
        ssl::stream<tfo::fast_open_stream> stream(tfo::fast_open_stream(executor, server), context);
        co_await fetch_on(stream, cache, server.port(), request, safety, out);
        co_return;
    }
    ssl::stream<tcp::socket> stream(executor, context);
    co_await stream.next_layer().async_connect(server, asio::use_awaitable);
    co_await fetch_on(stream, cache, server.port(), request, safety, out);
}

struct exchange
{
    tfo::test::served server;
    fetched client;
    tfo::fast_open_counters counted;
};

// One connection: server and client on one io_context, bounded in time.
exchange run_exchange(asio::io_context& io, tcp::acceptor& acceptor, ssl::context& server_ctx, ssl::context& client_ctx,
                      tfo::ssl::session_cache& cache, const std::string& request, tfo::ssl::replay_safety safety,
                      transport how = transport::fast_open)
{
    exchange x;
    const auto before = tfo::kernel_counters();
    asio::co_spawn(io, tfo::test::serve_one_line(acceptor, server_ctx, x.server), rethrow);
    asio::co_spawn(io, fetch(acceptor.local_endpoint(), client_ctx, cache, request, safety, how, x.client), rethrow);
    io.restart();
    io.run_for(std::chrono::seconds(20));
    BOOST_REQUIRE(io.stopped());
    x.counted = tfo::kernel_counters() - before;
    return x;
}

using tfo::ssl::early_data_status;
using tfo::ssl::not_attempted_reason;
using tfo::ssl::replay_safety;

struct fixture
{
    tfo::test::tls_identity id = tfo::test::make_tls_identity();
    ssl::context server_ctx = server_context(id, 16384);
    ssl::context client_ctx = client_context(id);
    tfo::ssl::session_cache cache{client_ctx};
};

void check_one_round_trip(const tcp& protocol)
{
    private_netns ns(3);
    fixture f;
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, protocol, 16);

    // First connection: no ticket, no cookie. A full handshake; the server
    // sends two tickets (OpenSSL's default), which the cache keeps.
    auto first = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /first\n", replay_safety::safe);
    BOOST_TEST((first.client.outcome.status == early_data_status::not_attempted));
    BOOST_TEST((first.client.outcome.reason == not_attempted_reason::no_ticket));
    BOOST_TEST(!first.client.outcome.resumed);
    BOOST_TEST(first.client.reply == "early=0 GET /first");
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_TEST(f.cache.count("localhost", acceptor.local_endpoint().port()) == 2u);

    // Second: the ticket allows early data; ClientHello and request in the SYN.
    auto second = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /second\n", replay_safety::safe);
    BOOST_TEST((second.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(second.client.outcome.resumed);
    BOOST_TEST(second.client.outcome.first_flight_fits_syn());
    BOOST_TEST(second.client.outcome.first_flight_size > 200u);
    BOOST_TEST(second.client.early_accepted);
    BOOST_TEST(second.server.early);
    BOOST_TEST(second.server.early_accepted);
    BOOST_TEST(second.server.resumed);
    BOOST_TEST(second.server.request == "GET /second");
    BOOST_TEST(second.client.reply == "early=1 GET /second");
    // Kernel: the SYN carried the first flight, both sides say so.
    BOOST_TEST(second.client.info.syn_data_acked);
    BOOST_TEST(second.server.syn_data);
    BOOST_TEST(second.counted.active == 1u);
    BOOST_TEST(second.counted.passive == 1u);
    BOOST_TEST(second.counted.active_fail == 0u);
    BOOST_TEST_MESSAGE("first flight: " << second.client.outcome.first_flight_size << " bytes, " << tfo::ssl::to_string(second.client.outcome.reason));
}

// Two tickets from a first connection to `acceptor`.
void first_contact(asio::io_context& io, tcp::acceptor& acceptor, fixture& f)
{
    auto first = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /first\n", replay_safety::safe);
    BOOST_REQUIRE(first.client.reply == "early=0 GET /first");
    BOOST_REQUIRE(f.cache.count("localhost", acceptor.local_endpoint().port()) == 2u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(ssl_early_data, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(request_in_the_syn_ipv4)
{
    check_one_round_trip(tcp::v4());
}

BOOST_AUTO_TEST_CASE(request_in_the_syn_ipv6)
{
    check_one_round_trip(tcp::v6());
}

// Over a connection made the ordinary way, early data still saves the
// round trip of the request; the kernel sees no Fast Open.
BOOST_AUTO_TEST_CASE(early_data_without_fast_open)
{
    private_netns ns(3);
    fixture f;
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    first_contact(io, acceptor, f);

    auto x = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /plain\n", replay_safety::safe,
                          transport::connected);
    BOOST_TEST((x.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(x.server.early);
    BOOST_TEST(x.client.reply == "early=1 GET /plain");
    BOOST_TEST(!x.client.info.syn_data_acked);
    BOOST_TEST(x.counted.active == 0u);
    BOOST_TEST(x.counted.passive == 0u);
}

// The synchronous forms, a blocking server on a thread and a blocking client.
BOOST_AUTO_TEST_CASE(synchronous_forms)
{
    private_netns ns(3);
    fixture f;
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    first_contact(io, acceptor, f);

    tfo::test::served seen;
    std::thread server([&] {
        tcp::socket socket = acceptor.accept();
        ssl::stream<tcp::socket> stream(std::move(socket), f.server_ctx);
        std::array<char, 256> buffer;
        const std::size_t n = tfo::ssl::read_early_data(stream, asio::buffer(buffer));
        seen.early = n > 0;
        seen.request.assign(buffer.data(), n);
        tfo::ssl::write_early_data(stream, asio::buffer("early answer\n", 13));
        while (tfo::ssl::read_early_data(stream, asio::buffer(buffer)) > 0)
        {
        }
        stream.handshake(ssl::stream_base::server);
        seen.early_accepted = tfo::ssl::early_data_accepted(stream);
        boost::system::error_code ignored;
        stream.shutdown(ignored);
    });

    ssl::stream<tcp::socket> client(io, f.client_ctx);
    SSL_set_tlsext_host_name(client.native_handle(), "localhost");
    BOOST_REQUIRE(f.cache.resume(client, "localhost", acceptor.local_endpoint().port()));
    client.next_layer().connect(acceptor.local_endpoint());
    const auto outcome = tfo::ssl::handshake_and_write(client, asio::buffer("GET /sync\n", 10), replay_safety::safe);
    std::string reply;
    asio::read_until(client, asio::dynamic_buffer(reply), '\n');
    boost::system::error_code ignored;
    client.shutdown(ignored);
    server.join();

    BOOST_TEST((outcome.status == early_data_status::accepted));
    BOOST_TEST(seen.early);
    BOOST_TEST(seen.early_accepted);
    BOOST_TEST(seen.request == "GET /sync\n");
    BOOST_TEST(reply == "early answer\n");

    // Errors come as exceptions or in an error_code.
    ssl::stream<tcp::socket> unused(io, f.server_ctx);
    std::array<char, 1> none;
    boost::system::error_code ec;
    BOOST_TEST(tfo::ssl::read_early_data(unused, asio::buffer(none, 0), ec) == 0u);
    BOOST_TEST((ec == asio::error::invalid_argument));
    BOOST_CHECK_THROW(tfo::ssl::read_early_data(unused, asio::buffer(none, 0)), boost::system::system_error);
}

// A request the caller did not mark safe never goes early, ticket or not.
BOOST_AUTO_TEST_CASE(unsafe_request_waits_for_the_handshake)
{
    private_netns ns(3);
    fixture f;
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    first_contact(io, acceptor, f);

    auto x = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "POST /order\n", replay_safety::not_safe);
    BOOST_TEST((x.client.outcome.status == early_data_status::not_attempted));
    BOOST_TEST((x.client.outcome.reason == not_attempted_reason::not_replay_safe));
    BOOST_TEST(x.client.outcome.resumed);
    BOOST_TEST(!x.server.early);
    BOOST_TEST(!x.server.early_accepted);
    BOOST_TEST(x.client.reply == "early=0 POST /order");
    // The ClientHello alone still rode in the SYN.
    BOOST_TEST(x.client.info.syn_data_acked);
    BOOST_TEST(x.counted.active == 1u);
}

// A server that cannot read the ticket (new ticket keys, as after a restart)
// refuses the early data: the request is sent again after the handshake and
// processed once, not early.
BOOST_AUTO_TEST_CASE(refused_early_data_is_resent)
{
    private_netns ns(3);
    fixture f;
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    first_contact(io, acceptor, f);

    ssl::context restarted = server_context(f.id, 16384);
    auto x = run_exchange(io, acceptor, restarted, f.client_ctx, f.cache, "GET /again\n", replay_safety::safe);
    BOOST_TEST((x.client.outcome.status == early_data_status::rejected_and_resent));
    BOOST_TEST(!x.client.outcome.resumed);
    BOOST_TEST(!x.client.early_accepted);
    BOOST_TEST(!x.server.early);
    BOOST_TEST(!x.server.early_accepted);
    BOOST_TEST(x.server.request == "GET /again");
    BOOST_TEST(x.client.reply == "early=0 GET /again");
    BOOST_TEST(x.client.info.syn_data_acked); // the refused first flight still came in the SYN
}

// OpenSSL's anti-replay: the same ticket presented twice (a replayed first
// flight would do the same) has its early data accepted the first time only.
BOOST_AUTO_TEST_CASE(a_ticket_carries_early_data_once)
{
    private_netns ns(3);
    fixture f;
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    const auto port = acceptor.local_endpoint().port();

    // Take one ticket out and give a copy to each of two caches: two
    // connections present the same ticket, as a replayed first flight would.
    tfo::ssl::session_cache one(f.client_ctx);
    tfo::ssl::session_cache other(f.client_ctx);
    {
        first_contact(io, acceptor, f);
        std::unique_ptr<SSL, decltype(&SSL_free)> probe(SSL_new(f.client_ctx.native_handle()), SSL_free);
        BOOST_REQUIRE(f.cache.resume(probe.get(), "localhost", port));
        one.insert("localhost", port, SSL_get_session(probe.get()));
        other.insert("localhost", port, SSL_get_session(probe.get()));
    }
    auto once = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, one, "GET /1\n", replay_safety::safe);
    BOOST_TEST((once.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(once.client.reply == "early=1 GET /1");
    auto twice = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, other, "GET /2\n", replay_safety::safe);
    BOOST_TEST((twice.client.outcome.status == early_data_status::rejected_and_resent));
    BOOST_TEST(!twice.server.early);
    BOOST_TEST(twice.client.reply == "early=0 GET /2");
}

// The server's setting: tickets announce it, and a larger request is not
// attempted; 0 turns early data off.
BOOST_AUTO_TEST_CASE(maximum_early_data)
{
    private_netns ns(3);
    fixture f;
    f.server_ctx = server_context(f.id, 64);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    first_contact(io, acceptor, f);

    const std::string big = "GET /" + std::string(100, 'x') + '\n';
    auto x = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, big, replay_safety::safe);
    BOOST_TEST((x.client.outcome.status == early_data_status::not_attempted));
    BOOST_TEST((x.client.outcome.reason == not_attempted_reason::too_big));
    BOOST_TEST(x.client.reply == "early=0 " + big.substr(0, big.size() - 1));

    auto small = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /s\n", replay_safety::safe);
    BOOST_TEST((small.client.outcome.status == early_data_status::accepted));

    f.server_ctx = server_context(f.id, 0);
    f.cache.clear();
    first_contact(io, acceptor, f);
    auto off = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /off\n", replay_safety::safe);
    BOOST_TEST((off.client.outcome.reason == not_attempted_reason::not_allowed));
    BOOST_TEST(off.client.reply == "early=0 GET /off");
}

// Early data turned off, or lowered below the request, at a server that
// issued tickets announcing more: after a restart with the same ticket keys,
// and on the same context. The server never aborts the handshake: early
// data it refuses is skipped and the request, sent again after the
// handshake, is processed once.
BOOST_AUTO_TEST_CASE(early_data_turned_off_after_tickets_were_issued)
{
    for (const bool restart : {true, false})
        for (const std::uint32_t limit : {0u, 32u})
            BOOST_TEST_CONTEXT((restart ? "restarted" : "same context") << ", max_early_data " << limit)
            {
                private_netns ns(3);
                fixture f;
                asio::io_context io;
                auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
                first_contact(io, acceptor, f); // tickets announcing 16384

                ssl::context restarted = server_context(f.id, limit);
                if (restart)
                {
                    std::array<unsigned char, 80> keys{};
                    BOOST_REQUIRE(SSL_CTX_get_tlsext_ticket_keys(f.server_ctx.native_handle(), keys.data(),
                                                                 keys.size()) == 1);
                    BOOST_REQUIRE(SSL_CTX_set_tlsext_ticket_keys(restarted.native_handle(), keys.data(),
                                                                 keys.size()) == 1);
                }
                else
                    tfo::ssl::enable_early_data(f.server_ctx, limit);
                ssl::context& server_ctx = restart ? restarted : f.server_ctx;

                const std::string line = "GET /" + std::string(100, 'r');
                auto x = run_exchange(io, acceptor, server_ctx, f.client_ctx, f.cache, line + '\n', replay_safety::safe);
                // A restarted server has not seen the ticket (OpenSSL's
                // anti-replay refuses it); the same context with a lower,
                // non-zero limit still takes what the ticket announced.
                const bool refused = restart || limit == 0;
                BOOST_TEST((x.client.outcome.status ==
                            (refused ? early_data_status::rejected_and_resent : early_data_status::accepted)));
                BOOST_TEST(x.server.early == !refused);
                BOOST_TEST(x.server.request == line, "processed once");
                BOOST_TEST(x.client.reply == (refused ? "early=0 " : "early=1 ") + line);
                BOOST_TEST(x.client.info.syn_data_acked, "the refused first flight still rode in the SYN");
            }
}

// A ticket from a connection that negotiated one ALPN protocol, used by a
// connection that offers another, or none: OpenSSL will not send early data
// with it (RFC 8446, section 4.2.10). The ticket still resumes the session,
// the request goes after the handshake and is processed once, and the
// outcome says why.
BOOST_AUTO_TEST_CASE(a_ticket_from_another_alpn_protocol)
{
    private_netns ns(3);
    fixture f;
    SSL_CTX_set_alpn_select_cb(
        f.server_ctx.native_handle(),
        [](SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in, unsigned in_size,
           void*) {
            static const unsigned char ours[] = "\x08http/1.1\x02h2";
            unsigned char* chosen = nullptr;
            if (SSL_select_next_proto(&chosen, out_size, ours, sizeof ours - 1, in, in_size) !=
                OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_NOACK;
            *out = chosen;
            return SSL_TLSEXT_ERR_OK;
        },
        nullptr);
    static const unsigned char http11[] = "\x08http/1.1";
    static const unsigned char h2[] = "\x02h2";
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);

    for (const bool offer_h2 : {true, false})
        BOOST_TEST_CONTEXT((offer_h2 ? "h2 only" : "no ALPN"))
        {
            f.cache.clear();
            BOOST_REQUIRE(SSL_CTX_set_alpn_protos(f.client_ctx.native_handle(), http11, sizeof http11 - 1) == 0);
            first_contact(io, acceptor, f); // tickets that say http/1.1
            if (offer_h2)
                BOOST_REQUIRE(SSL_CTX_set_alpn_protos(f.client_ctx.native_handle(), h2, sizeof h2 - 1) == 0);
            else
                BOOST_REQUIRE(SSL_CTX_set_alpn_protos(f.client_ctx.native_handle(), nullptr, 0) == 0);
            auto x = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /alpn\n",
                                  replay_safety::safe);
            BOOST_TEST((x.client.outcome.status == early_data_status::not_attempted));
            BOOST_TEST((x.client.outcome.reason == not_attempted_reason::not_allowed));
            BOOST_TEST(x.client.outcome.resumed, "the ticket still resumed the session");
            BOOST_TEST(x.client.outcome.first_flight_size == 0u);
            BOOST_TEST(!x.server.early);
            BOOST_TEST(x.server.resumed);
            BOOST_TEST(x.server.request == "GET /alpn", "processed once, after the handshake");
            BOOST_TEST(x.client.reply == "early=0 GET /alpn");
            BOOST_TEST(x.client.info.syn_data_acked, "the ClientHello still rode in the SYN");
        }

    // The ticket's protocol offered again: early data again.
    f.cache.clear();
    BOOST_REQUIRE(SSL_CTX_set_alpn_protos(f.client_ctx.native_handle(), http11, sizeof http11 - 1) == 0);
    first_contact(io, acceptor, f);
    auto back = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, "GET /again\n", replay_safety::safe);
    BOOST_TEST((back.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(back.server.request == "GET /again");
}

// A first flight larger than a SYN on a 1500-byte path: the outcome says so;
// the kernel sends what fits in the SYN, the rest after, and the request is
// still processed as early data.
BOOST_AUTO_TEST_CASE(first_flight_larger_than_a_syn)
{
    private_netns ns(3);
    BOOST_REQUIRE(private_netns::run("ip link set lo mtu 1500") == 0);
    fixture f;
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    first_contact(io, acceptor, f);

    const std::string line = "GET /" + std::string(1500, 'y');
    auto x = run_exchange(io, acceptor, f.server_ctx, f.client_ctx, f.cache, line + '\n', replay_safety::safe);
    BOOST_TEST((x.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(!x.client.outcome.first_flight_fits_syn());
    BOOST_TEST(x.client.outcome.first_flight_size > 1500u);
    BOOST_TEST(x.client.outcome.syn_data_limit == 1420u);
    BOOST_TEST(x.server.early);
    BOOST_TEST(x.server.request == line);
    BOOST_TEST(x.client.info.syn_data_acked); // the part that fitted
    BOOST_TEST(x.counted.active == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_ssl_early_data
