//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// TLS 1.3 early data over TCP Fast Open with peers no one here wrote, in
// private network namespaces:
// - nginx (`listen ... ssl fastopen=N; ssl_early_data on;`) serving our client;
// - `openssl s_server -early_data` under net.ipv4.tcp_fastopen=0x403 (every
//   listener fast-opens) serving our client;
// - `openssl s_client -sess_out/-sess_in -early_data` as a client of our server.
// Evidence: TCP_INFO and the TcpExt counters, SSL_get_early_data_status on
// our side, the peer's own report of early data, and its answer.
//

#include <tfo/ssl/early_data.hpp>
#include <tfo/ssl/session_cache.hpp>

#include <boost/test/unit_test.hpp>

#include "completion.hpp"
#include "child_process.hpp"
#include "late_finished_stream.hpp"
#include "netns.hpp"
#include "raw_client.hpp"
#include "tls_identity.hpp"
#include "tls_line_server.hpp"

#include <tfo/fast_open_info.hpp>
#include <tfo/system.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_ssl_peers)

namespace asio = boost::asio;
using tfo::test::rethrow;
namespace ssl = asio::ssl;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace std::chrono_literals;
using tfo::ssl::early_data_status;
using tfo::ssl::not_attempted_reason;
using tfo::ssl::replay_safety;
using tfo::test::child_process;
using tfo::test::private_netns;

namespace {

bool accepts_connections(unsigned short port)
{
    asio::io_context io;
    tcp::socket probe(io);
    boost::system::error_code ec;
    probe.connect({asio::ip::address_v4::loopback(), port}, ec);
    return !ec;
}

// nginx, in its own directory, in the foreground: a child of the test.
class nginx_server
{
public:
    nginx_server(const tfo::test::tls_identity& id, const std::filesystem::path& dir, unsigned short port)
    {
        id.write_to(dir);
        const std::string d = dir.string();
        std::string conf = tfo::test::read_file(TFO_NGINX_CONF);
        const std::pair<std::string, std::string> fill[] = {{"@DIR@", d},
                                                            {"@LISTEN@", "127.0.0.1:" + std::to_string(port)},
                                                            {"@CERT@", d + "/cert.pem"},
                                                            {"@KEY@", d + "/key.pem"}};
        for (const auto& [token, value] : fill)
            for (auto at = conf.find(token); at != std::string::npos; at = conf.find(token, at + value.size()))
                conf.replace(at, token.size(), value);
        std::ofstream(dir / "nginx.conf") << conf;
        process_ = std::make_unique<child_process>(
            std::vector<std::string>{"nginx", "-e", d + "/error.log", "-p", d, "-c", d + "/nginx.conf"}, "/dev/null",
            dir / "nginx.out");
        if (!tfo::test::wait_until([&] { return accepts_connections(port); }, 10s))
            throw std::runtime_error("nginx did not start: " + tfo::test::read_file(dir / "error.log") +
                                     tfo::test::read_file(dir / "nginx.out"));
    }

private:
    std::unique_ptr<child_process> process_;
};

struct fetched
{
    tfo::ssl::early_data_outcome outcome;
    std::string reply;
    tfo::fast_open_info info;
    bool early_accepted = false;
};

// Our client: `request` with the session cache, through a stream that
// connects on its first write; reads until the server closes, unless
// `read_reply` is false (then it just closes the TLS session).
asio::awaitable<void> fetch(tcp::endpoint server, ssl::context& context, tfo::ssl::session_cache& cache,
                            std::string request, replay_safety safety, bool read_reply, fetched& out)
{
    const auto executor = co_await asio::this_coro::executor;
    // The client's Finished is held back 100 ms, so that a server processes
    // an early request before the handshake completes, as over a real path.
    ssl::stream<tfo::test::late_finished_stream> stream(tfo::test::late_finished_stream(executor, server, 100ms),
                                                        context);
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.set_verify_callback(ssl::host_name_verification("localhost"));
    cache.resume(stream, "localhost", server.port());
    out.outcome = co_await tfo::ssl::async_handshake_and_write(stream, asio::buffer(request), safety,
                                                               asio::use_awaitable);
    out.early_accepted = tfo::ssl::early_data_accepted(stream);
    out.info = tfo::get_fast_open_info(stream);
    if (read_reply)
    {
        auto [ec, n] = co_await asio::async_read(stream, asio::dynamic_buffer(out.reply),
                                                 asio::as_tuple(asio::use_awaitable));
        if (ec != asio::error::eof && ec != ssl::error::stream_truncated)
            throw boost::system::system_error(ec, "read");
    }
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable)); // the tickets arrive meanwhile
}

struct exchange
{
    fetched client;
    tfo::fast_open_counters counted;
};

exchange run_client(ssl::context& context, tfo::ssl::session_cache& cache, unsigned short port,
                    const std::string& request, replay_safety safety, bool read_reply = true)
{
    exchange x;
    asio::io_context io;
    const auto before = tfo::kernel_counters();
    asio::co_spawn(io,
                   fetch({asio::ip::address_v4::loopback(), port}, context, cache, request, safety, read_reply,
                         x.client),
                   rethrow);
    io.run_for(20s);
    BOOST_REQUIRE(io.stopped());
    x.counted = tfo::kernel_counters() - before;
    return x;
}

std::string http_get(const std::string& path)
{
    return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

bool have(const char* program)
{
    return private_netns::run(std::string("command -v ") + program + " >/dev/null 2>&1") == 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ssl_peers, *ut::precondition(tfo::test::netns_available) * ut::timeout(120))

// nginx answers a repeat connection's request in one flight: the ClientHello
// and the request came in the SYN, and nginx says it processed early data.
BOOST_AUTO_TEST_CASE(nginx_serves_early_data_over_fast_open)
{
    BOOST_REQUIRE_MESSAGE(have("nginx"), "nginx is not installed (scripts/setup.sh installs nginx-light)");
    private_netns ns(3);
    tfo::test::temp_directory dir;
    const auto id = tfo::test::make_tls_identity();
    const unsigned short port = tfo::test::free_port();
    nginx_server server(id, dir.path(), port);
    ssl::context context = tfo::test::make_client_context(id);
    tfo::ssl::session_cache cache(context);

    // First contact: a full handshake, a cookie, two tickets.
    auto first = run_client(context, cache, port, http_get("/first"), replay_safety::safe);
    BOOST_TEST((first.client.outcome.reason == not_attempted_reason::no_ticket));
    BOOST_TEST(contains(first.client.reply, "HTTP/1.1 200"));
    BOOST_TEST(contains(first.client.reply, "early= uri=/first"));
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_TEST(cache.count("localhost", port) == 2u);

    // Repeat: ClientHello + GET in the SYN, processed by nginx as early data.
    auto second = run_client(context, cache, port, http_get("/second"), replay_safety::safe);
    BOOST_TEST((second.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(second.client.outcome.resumed);
    BOOST_TEST(second.client.outcome.first_flight_fits_syn());
    BOOST_TEST(second.client.early_accepted);
    BOOST_TEST(contains(second.client.reply, "X-Early-Data: 1"));
    BOOST_TEST(contains(second.client.reply, "early=1 uri=/second"), second.client.reply);
    BOOST_TEST(second.client.info.syn_data_acked);
    BOOST_TEST(second.counted.active == 1u);
    BOOST_TEST(second.counted.passive == 1u);
    BOOST_TEST_MESSAGE("first flight to nginx: " << second.client.outcome.first_flight_size << " bytes");

    // The second ticket of the first contact carries the next request early too.
    auto third = run_client(context, cache, port, http_get("/third"), replay_safety::safe);
    BOOST_TEST((third.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(contains(third.client.reply, "early=1 uri=/third"), third.client.reply);

    // A request not marked safe waits for the handshake (no ticket is left
    // now: nginx sends none on resumed connections, so the first refills).
    run_client(context, cache, port, http_get("/refill"), replay_safety::safe);
    auto unsafe = run_client(context, cache, port, http_get("/unsafe"), replay_safety::not_safe);
    BOOST_TEST((unsafe.client.outcome.reason == not_attempted_reason::not_replay_safe));
    BOOST_TEST(unsafe.client.outcome.resumed);
    BOOST_TEST(contains(unsafe.client.reply, "early= uri=/unsafe"));
}

// A restarted nginx has new ticket keys: it refuses the early data, and our
// client sends the request again after the handshake.
BOOST_AUTO_TEST_CASE(nginx_restarted_refuses_and_the_request_is_resent)
{
    BOOST_REQUIRE_MESSAGE(have("nginx"), "nginx is not installed (scripts/setup.sh installs nginx-light)");
    private_netns ns(3);
    tfo::test::temp_directory dir;
    const auto id = tfo::test::make_tls_identity();
    const unsigned short port = tfo::test::free_port();
    ssl::context context = tfo::test::make_client_context(id);
    tfo::ssl::session_cache cache(context);
    {
        nginx_server server(id, dir.path(), port);
        run_client(context, cache, port, http_get("/first"), replay_safety::safe);
        BOOST_REQUIRE(cache.count("localhost", port) == 2u);
    }
    nginx_server restarted(id, dir.path(), port);
    auto x = run_client(context, cache, port, http_get("/again"), replay_safety::safe);
    BOOST_TEST((x.client.outcome.status == early_data_status::rejected_and_resent));
    BOOST_TEST(!x.client.early_accepted);
    BOOST_TEST(contains(x.client.reply, "early= uri=/again"));
    BOOST_TEST(x.client.info.syn_data_acked); // the refused flight still rode in the SYN
}

// openssl s_server with every listener fast-opening (0x403): our early data
// reaches it in the SYN, and it prints what it read as early data.
BOOST_AUTO_TEST_CASE(openssl_s_server_reads_our_early_data)
{
    private_netns ns(0x403);
    tfo::test::temp_directory dir;
    const auto id = tfo::test::make_tls_identity();
    id.write_to(dir.path());
    const unsigned short port = tfo::test::free_port();
    const auto log = dir.path() / "s_server.out";
    // s_server ends a connection, and exits, at the end of its input: give it
    // a FIFO that this process holds open.
    const auto input = dir.path() / "s_server.in";
    BOOST_REQUIRE(mkfifo(input.c_str(), 0600) == 0);
    const int hold_open = open(input.c_str(), O_RDWR);
    BOOST_REQUIRE(hold_open >= 0);
    std::shared_ptr<void> close_at_end(nullptr, [hold_open](void*) { close(hold_open); });
    child_process server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                          (dir.path() / "cert.pem").string(), "-key", (dir.path() / "key.pem").string(), "-tls1_3",
                          "-early_data"},
                         input, log);
    BOOST_REQUIRE(tfo::test::wait_until([&] { return contains(tfo::test::read_file(log), "ACCEPT"); }, 10s));
    ssl::context context = tfo::test::make_client_context(id);
    tfo::ssl::session_cache cache(context);

    auto first = run_client(context, cache, port, "hello /one\n", replay_safety::safe, false);
    BOOST_TEST((first.client.outcome.reason == not_attempted_reason::no_ticket));
    BOOST_TEST(first.counted.cookie_reqd == 1u);
    BOOST_REQUIRE(cache.count("localhost", port) >= 1u);

    auto second = run_client(context, cache, port, "hello /two\n", replay_safety::safe, false);
    BOOST_TEST((second.client.outcome.status == early_data_status::accepted));
    BOOST_TEST(second.client.early_accepted);
    BOOST_TEST(second.client.info.syn_data_acked);
    BOOST_TEST(second.counted.active == 1u);
    BOOST_TEST(second.counted.passive == 1u);
    // s_server reports early data on its buffered output and prints the data
    // itself straight to its descriptor, so the two may come out of order.
    BOOST_TEST(tfo::test::wait_until(
        [&] {
            const std::string said = tfo::test::read_file(log);
            return contains(said, "Early data received:") && contains(said, "hello /two");
        },
        5s));
    BOOST_TEST(contains(tfo::test::read_file(log), "No early data received")); // the first connection
}

// openssl s_client sends early data from a saved session to our server,
// which flags it as early, answers before the handshake completes, and
// refuses a second use of the same session (OpenSSL's anti-replay).
BOOST_AUTO_TEST_CASE(openssl_s_client_sends_early_data_to_our_server)
{
    private_netns ns(3);
    tfo::test::temp_directory dir;
    const auto id = tfo::test::make_tls_identity();
    id.write_to(dir.path());
    ssl::context server_ctx = tfo::test::make_server_context(id, 16384);
    asio::io_context io;
    auto acceptor = tfo::test::make_listener(io, tcp::v4(), 16);
    const std::string port = std::to_string(acceptor.local_endpoint().port());
    const auto d = dir.path();
    std::ofstream(d / "one.txt") << "GET /one\n";
    std::ofstream(d / "two.txt") << "GET /two\n";
    std::ofstream(d / "three.txt") << "GET /three\n";

    auto s_client = [&](std::vector<std::string> extra, const std::filesystem::path& input,
                        const std::filesystem::path& output, tfo::test::served& seen) {
        std::vector<std::string> argv{"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername",
                                      "localhost", "-CAfile", (d / "cert.pem").string(), "-verify_return_error",
                                      "-tls1_3", "-ign_eof"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        asio::co_spawn(io, tfo::test::serve_one_line(acceptor, server_ctx, seen), rethrow);
        child_process client(argv, input, output);
        io.restart();
        io.run_for(20s);
        BOOST_REQUIRE(io.stopped());
        BOOST_TEST(client.wait_for_exit(10s) == 0);
        return tfo::test::read_file(output);
    };

    tfo::test::served one;
    const auto out1 = s_client({"-sess_out", (d / "sess.pem").string()}, d / "one.txt", d / "one.out", one);
    BOOST_TEST(!one.early);
    BOOST_TEST(contains(out1, "early=0 GET /one"));
    BOOST_REQUIRE(std::filesystem::exists(d / "sess.pem"));

    tfo::test::served two;
    const auto out2 = s_client({"-sess_in", (d / "sess.pem").string(), "-early_data", (d / "two.txt").string()},
                               "/dev/null", d / "two.out", two);
    BOOST_TEST(two.early);
    BOOST_TEST(two.early_accepted);
    BOOST_TEST(two.resumed);
    BOOST_TEST(two.request == "GET /two");
    BOOST_TEST(contains(out2, "Early data was accepted"));
    BOOST_TEST(contains(out2, "early=1 GET /two"));

    // The same session again, as an attacker replaying the first flight would.
    tfo::test::served three;
    const auto out3 = s_client({"-sess_in", (d / "sess.pem").string(), "-early_data", (d / "three.txt").string()},
                               d / "three.txt", d / "three.out", three);
    BOOST_TEST(!three.early);
    BOOST_TEST(!three.early_accepted);
    BOOST_TEST(contains(out3, "Early data was rejected"));
    BOOST_TEST(contains(out3, "early=0 GET /three"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_ssl_peers
