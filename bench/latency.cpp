//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// latency: the time from "open a socket" to "the whole response is read" for
// a fresh connection carrying one 100-byte request and one 100-byte response,
// with and without TCP Fast Open, in clear, over Multipath TCP and over TLS 1.3.
//
// Run both sides through tools/link (tfo-link), which puts them in two network
// namespaces joined by a link with a set round-trip time (see bench/run.sh):
//
//   latency --mode server --port 8080 --tls-port 8443 [--tls-early-port 8444] [--mptcp-port 8081]
//           --cert C --key K
//   latency --mode client --host H --port 8080 --tls-port 8443 [--tls-early-port 8444] [--mptcp-port 8081]
//           --ca C [--reps 100] [--raw FILE]
//
// The client measures eleven variants, interleaved rep by rep so that any
// drift hits them all alike:
//
//   asio            socket.async_connect + async_write + async_read
//   tfo_async       tfo::async_fastopen_connect (request in the SYN) + async_read
//   tfo_option      the tfo::fast_open_deferred_connect option, then the same Asio code as asio
//   mptcp           as asio, on Multipath TCP sockets (tfo::open_multipath, both ends)
//   mptcp_tfo       as tfo_async, on Multipath TCP sockets
//   tls_asio        async_connect + ssl handshake + write + read
//   tls_tfo_async   ssl::stream over tfo::fast_open_stream: the ClientHello written by
//                   tfo::async_fastopen_connect
//   tls_tfo_option  the tfo::fast_open_deferred_connect option, then the same code as tls_asio
//   tls_resume      async_connect + TLS 1.3 resumption (a ticket, no early data) + write + read
//   tls_early       async_connect + resumption with the request as early data (tfo::ssl) + read
//   tls_early_tfo   the same first flight, ClientHello and early data, in the SYN + read
//
// The last three talk to --tls-early-port, whose server issues tickets and
// accepts early data (answering it before the handshake completes); they
// take a ticket from a tfo::ssl::session_cache, and collect the next ones
// after the timed part.
//
// It writes every sample to --raw (CSV) and one summary row per variant to
// stdout (see bench_support.hpp).
//

#include "bench_support.hpp"

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/fast_open_stream.hpp>
#include <tfo/multipath.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/ssl/early_data.hpp>
#include <tfo/ssl/session_cache.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t message_size = 100;
// The certificate's name; bench/run.sh makes it with the same subjectAltName.
constexpr const char* server_name = "tfo-bench";

std::array<char, message_size> filled(char c)
{
    std::array<char, message_size> a;
    a.fill(c);
    return a;
}

const std::array<char, message_size> request = filled('q');
const std::array<char, message_size> response = filled('r');

// The plain server's answer says when the request was whole at the server:
// steady_clock (CLOCK_MONOTONIC, one clock for every process of the host) in
// nanoseconds, as 20 digits in place of the first 'r's. The client learns how
// long the request took to arrive, apart from how long the answer did.
constexpr std::size_t stamp_digits = 20;

std::array<char, message_size> stamped_response()
{
    std::array<char, message_size> a = response;
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    const std::string digits = std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
    std::copy(digits.begin(), digits.end(), a.begin() + static_cast<std::ptrdiff_t>(stamp_digits - digits.size()));
    std::fill(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(stamp_digits - digits.size()), '0');
    return a;
}

void require_tls13(ssl::context& context)
{
    // TLS 1.3 only: its full handshake is one round trip, the case we claim.
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
}

// ---------------------------------------------------------------- server

// Reads the request, answers, then waits for the client to close first, so
// that our close never finds unread data (which would send a reset).
template <typename Stream>
asio::awaitable<void> answer(Stream& stream)
{
    std::array<char, message_size> buffer;
    co_await asio::async_read(stream, asio::buffer(buffer), asio::use_awaitable);
    const auto reply = stamped_response();
    co_await asio::async_write(stream, asio::buffer(reply), asio::use_awaitable);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    (void)ec;
    (void)n;
}

asio::awaitable<void> serve_plain(tcp::socket socket)
{
    socket.set_option(tcp::no_delay(true));
    co_await answer(socket);
}

asio::awaitable<void> serve_tls(tcp::socket socket, ssl::context& context)
{
    socket.set_option(tcp::no_delay(true));
    ssl::stream<tcp::socket> stream(std::move(socket), context);
    co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
    co_await answer(stream);
}

// A resumed client may send its request as early data: answer it at once,
// with the handshake flight, as nginx does.
asio::awaitable<void> serve_tls_early(tcp::socket socket, ssl::context& context)
{
    socket.set_option(tcp::no_delay(true));
    ssl::stream<tcp::socket> stream(std::move(socket), context);
    std::array<char, 4096> buffer;
    std::size_t early = 0;
    bool answered = false;
    for (;;)
    {
        const std::size_t n =
            co_await tfo::ssl::async_read_early_data(stream, asio::buffer(buffer), asio::use_awaitable);
        if (n == 0)
            break;
        early += n;
        if (!answered && early >= message_size)
        {
            co_await tfo::ssl::async_write_early_data(stream, asio::buffer(response), asio::use_awaitable);
            answered = true;
        }
    }
    co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
    if (answered)
    {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
        (void)ec;
        (void)n;
    }
    else
        co_await answer(stream);
    // A clean shutdown: OpenSSL removes the session of a connection freed
    // without one from its cache, and with it the last ticket it issued.
    auto [ec] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    (void)ec;
}

void log_failure(std::exception_ptr e)
{
    if (!e)
        return;
    try
    {
        std::rethrow_exception(e);
    }
    catch (const boost::system::system_error& error)
    {
        // The client never ends a TLS session with close_notify: it just closes.
        if (error.code() != asio::error::eof && error.code() != ssl::error::stream_truncated)
            std::cerr << "latency server: " << error.what() << '\n';
    }
    catch (const std::exception& error)
    {
        std::cerr << "latency server: " << error.what() << '\n';
    }
}

enum class serve
{
    plain,
    tls,
    tls_early
};

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, serve kind, ssl::context* tls)
{
    for (;;)
    {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted)
            co_return;
        if (ec)
            continue;
        auto executor = acceptor.get_executor();
        if (kind == serve::tls_early)
            asio::co_spawn(executor, serve_tls_early(std::move(socket), *tls), log_failure);
        else if (kind == serve::tls)
            asio::co_spawn(executor, serve_tls(std::move(socket), *tls), log_failure);
        else
            asio::co_spawn(executor, serve_plain(std::move(socket)), log_failure);
    }
}

tcp::acceptor make_acceptor(asio::io_context& io, const tcp::endpoint& endpoint, bool multipath = false)
{
    tcp::acceptor acceptor(io);
    if (multipath)
    {
        const auto opened = tfo::open_multipath(acceptor, endpoint.protocol()); // the one line MPTCP adds
        if (!opened)
            throw std::runtime_error("no Multipath TCP listener: " + opened.fallback.message());
    }
    else
    {
        acceptor.open(endpoint.protocol());
    }
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.set_option(tfo::fast_open{256}); // the one line a server adds
    acceptor.listen();
    return acceptor;
}

int run_server(const tfo_bench::options& options)
{
    asio::io_context io(1);
    const auto address = asio::ip::make_address(options.get("bind", "0.0.0.0"));

    ssl::context tls(ssl::context::tls_server);
    require_tls13(tls);
    tls.use_certificate_chain_file(options.get("cert", "cert.pem"));
    tls.use_private_key_file(options.get("key", "key.pem"), ssl::context::pem);
    // No session tickets: every handshake is a full one, as the client never resumes.
    SSL_CTX_set_num_tickets(tls.native_handle(), 0);

    // The resumption and early-data variants: tickets (2 per handshake, OpenSSL's
    // default), early data up to 16 KiB, OpenSSL's anti-replay on.
    ssl::context tls_early(ssl::context::tls_server);
    require_tls13(tls_early);
    tls_early.use_certificate_chain_file(options.get("cert", "cert.pem"));
    tls_early.use_private_key_file(options.get("key", "key.pem"), ssl::context::pem);
    tfo::ssl::enable_early_data(tls_early, 16384);

    // The TLS port listens first: tfo-link --ready-port waits for the plain one.
    tcp::acceptor tls_acceptor = make_acceptor(io, {address, static_cast<unsigned short>(options.get_int("tls-port", 8443))});
    tcp::acceptor early_acceptor =
        make_acceptor(io, {address, static_cast<unsigned short>(options.get_int("tls-early-port", 8444))});
    tcp::acceptor mptcp_acceptor =
        make_acceptor(io, {address, static_cast<unsigned short>(options.get_int("mptcp-port", 8081))}, true);
    tcp::acceptor acceptor = make_acceptor(io, {address, static_cast<unsigned short>(options.get_int("port", 8080))});

    asio::co_spawn(io, accept_loop(tls_acceptor, serve::tls, &tls), log_failure);
    asio::co_spawn(io, accept_loop(early_acceptor, serve::tls_early, &tls_early), log_failure);
    asio::co_spawn(io, accept_loop(mptcp_acceptor, serve::plain, nullptr), log_failure);
    asio::co_spawn(io, accept_loop(acceptor, serve::plain, nullptr), log_failure);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](error_code, int) { io.stop(); });
    io.run();
    return 0;
}

// ---------------------------------------------------------------- client

enum class connect_with
{
    asio,       // socket.async_connect
    tfo_async,  // tfo::async_fastopen_connect
    tfo_option  // tfo::fast_open_deferred_connect, then socket.async_connect
};

// What a TLS variant does with a session ticket.
enum class session_use
{
    none,   // a full handshake
    resume, // resumption, the request after the handshake
    early   // resumption, the request as early data in the first flight
};

struct variant
{
    const char* name;
    bool tls;
    connect_with how;
    const char* baseline; // the variant its ratio is taken against
    session_use session = session_use::none;
    bool multipath = false; // Multipath TCP sockets at both ends
};

constexpr std::array<variant, 11> variants{{
    {"asio", false, connect_with::asio, "asio"},
    {"tfo_async", false, connect_with::tfo_async, "asio"},
    {"tfo_option", false, connect_with::tfo_option, "asio"},
    {"mptcp", false, connect_with::asio, "mptcp", session_use::none, true},
    {"mptcp_tfo", false, connect_with::tfo_async, "mptcp", session_use::none, true},
    {"tls_asio", true, connect_with::asio, "tls_asio"},
    {"tls_tfo_async", true, connect_with::tfo_async, "tls_asio"},
    {"tls_tfo_option", true, connect_with::tfo_option, "tls_asio"},
    {"tls_resume", true, connect_with::asio, "tls_asio", session_use::resume},
    {"tls_early", true, connect_with::asio, "tls_asio", session_use::early},
    {"tls_early_tfo", true, connect_with::tfo_async, "tls_asio", session_use::early},
}};

// Round trips to the last response byte: TCP's handshake (none with Fast
// Open), TLS 1.3's (none when the request rides as early data), the request.
int round_trips_of(const variant& v)
{
    const int tcp = v.how == connect_with::asio ? 1 : 0;
    if (!v.tls)
        return tcp + 1;
    return tcp + (v.session == session_use::early ? 0 : 1) + 1;
}

struct outcome
{
    double ms = 0;
    bool syn_data_acked = false;
    bool multipath = false;  // the connection spoke Multipath TCP
    double request_ms = -1;  // when the request was whole at the server, if its answer says
};

void open_socket(tcp::socket& socket, connect_with how, bool multipath = false)
{
    if (multipath)
    {
        const auto opened = tfo::open_multipath(socket, tcp::v4()); // the one line MPTCP adds
        if (!opened)
            throw std::runtime_error("no Multipath TCP socket: " + opened.fallback.message());
    }
    else
    {
        socket.open(tcp::v4());
    }
    // TLS writes its Finished and then the request: without this, Nagle would
    // hold the request until the Finished is acknowledged.
    socket.set_option(tcp::no_delay(true));
    if (how == connect_with::tfo_option)
        socket.set_option(tfo::fast_open_deferred_connect{true});
}

// Checks the response, and returns when the request was whole at the
// server, counted from `start`, where the answer is stamped (-1 if not).
double check_response(const std::array<char, message_size>& got,
                      std::chrono::steady_clock::time_point start = {})
{
    if (std::equal(got.begin(), got.end(), response.begin()))
        return -1;
    const auto stamp_end = got.begin() + static_cast<std::ptrdiff_t>(stamp_digits);
    long long ns = 0;
    const auto [end, ec] = std::from_chars(got.data(), got.data() + stamp_digits, ns);
    if (ec != std::errc() || end != got.data() + stamp_digits || !std::equal(stamp_end, got.end(), response.begin()))
        throw std::runtime_error("unexpected response");
    const auto start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
    return static_cast<double>(ns - start_ns) / 1e6;
}

asio::awaitable<outcome> one_plain(const tcp::endpoint& endpoint, connect_with how, bool multipath)
{
    const auto start = std::chrono::steady_clock::now();
    tcp::socket socket(co_await asio::this_coro::executor);
    open_socket(socket, how, multipath);
    if (how == connect_with::tfo_async)
    {
        co_await tfo::async_fastopen_connect(socket, endpoint, asio::buffer(request), asio::use_awaitable);
    }
    else
    {
        co_await socket.async_connect(endpoint, asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    }
    std::array<char, message_size> got;
    co_await asio::async_read(socket, asio::buffer(got), asio::use_awaitable);
    const double ms = tfo_bench::seconds_since(start) * 1e3;
    const double request_ms = check_response(got, start);
    co_return outcome{ms, tfo::get_fast_open_info(socket).syn_data_acked, tfo::get_multipath_info(socket).active,
                      request_ms};
}

template <typename Stream>
void prepare_tls(ssl::stream<Stream>& stream)
{
    SSL_set_tlsext_host_name(stream.native_handle(), server_name);
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification(server_name));
}

template <typename Stream>
asio::awaitable<std::array<char, message_size>> exchange_tls(ssl::stream<Stream>& stream)
{
    co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
    if (SSL_version(stream.native_handle()) != TLS1_3_VERSION)
        throw std::runtime_error("the handshake did not negotiate TLS 1.3");
    co_await asio::async_write(stream, asio::buffer(request), asio::use_awaitable);
    std::array<char, message_size> got;
    co_await asio::async_read(stream, asio::buffer(got), asio::use_awaitable);
    co_return got;
}

asio::awaitable<outcome> one_tls(const tcp::endpoint& endpoint, connect_with how, ssl::context& context)
{
    const auto start = std::chrono::steady_clock::now();
    const auto executor = co_await asio::this_coro::executor;
    if (how == connect_with::tfo_async)
    {
        // The library's stream: its first write, the ClientHello, is async_fastopen_connect.
        ssl::stream<tfo::fast_open_stream> stream(tfo::fast_open_stream(executor, endpoint), context);
        prepare_tls(stream);
        open_socket(stream.next_layer().next_layer(), how);
        const auto got = co_await exchange_tls(stream);
        const double ms = tfo_bench::seconds_since(start) * 1e3;
        check_response(got);
        co_return outcome{ms, tfo::get_fast_open_info(stream).syn_data_acked};
    }
    ssl::stream<tcp::socket> stream(executor, context);
    prepare_tls(stream);
    open_socket(stream.next_layer(), how);
    co_await stream.next_layer().async_connect(endpoint, asio::use_awaitable);
    const auto got = co_await exchange_tls(stream);
    const double ms = tfo_bench::seconds_since(start) * 1e3;
    check_response(got);
    co_return outcome{ms, tfo::get_fast_open_info(stream.next_layer()).syn_data_acked};
}

// The resumption variants. The ticket is taken from the cache before the
// clock starts; after the response (the clock stopped) the client closes the
// TLS session and reads until the server closes, which brings the tickets of
// this connection into the cache for the next ones.
template <typename Stream>
asio::awaitable<void> exchange_resumed(ssl::stream<Stream>& stream, session_use session)
{
    const auto safety =
        session == session_use::early ? tfo::ssl::replay_safety::safe : tfo::ssl::replay_safety::not_safe;
    const auto sent = co_await tfo::ssl::async_handshake_and_write(stream, asio::buffer(request), safety,
                                                                   asio::use_awaitable);
    if (!sent.resumed || (session == session_use::early && sent.status != tfo::ssl::early_data_status::accepted))
        throw std::runtime_error("no resumption or early data: " + std::string(tfo::ssl::to_string(sent.status)) +
                                 " (" + std::string(tfo::ssl::to_string(sent.reason)) + ")");
    std::array<char, message_size> got;
    co_await asio::async_read(stream, asio::buffer(got), asio::use_awaitable);
    check_response(got);
}

template <typename Stream>
asio::awaitable<void> collect_tickets(ssl::stream<Stream>& stream)
{
    auto [ec] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    (void)ec; // the server closes without close_notify
}

// A full handshake on the early-data port, untimed, when the cache is empty.
asio::awaitable<void> refill_tickets(const tcp::endpoint& endpoint, ssl::context& context,
                                     tfo::ssl::session_cache& cache)
{
    while (cache.count(server_name, endpoint.port()) == 0)
    {
        ssl::stream<tcp::socket> stream(co_await asio::this_coro::executor, context);
        prepare_tls(stream);
        cache.resume(stream, server_name, endpoint.port());
        open_socket(stream.next_layer(), connect_with::asio);
        co_await stream.next_layer().async_connect(endpoint, asio::use_awaitable);
        co_await exchange_tls(stream);
        co_await collect_tickets(stream);
    }
}

asio::awaitable<outcome> one_tls_resumed(const tcp::endpoint& endpoint, const variant& v, ssl::context& context,
                                         tfo::ssl::session_cache& cache)
{
    co_await refill_tickets(endpoint, context, cache);
    const auto executor = co_await asio::this_coro::executor;
    if (v.how == connect_with::tfo_async)
    {
        ssl::stream<tfo::fast_open_stream> stream(tfo::fast_open_stream(executor, endpoint), context);
        prepare_tls(stream);
        cache.resume(stream, server_name, endpoint.port());
        const auto start = std::chrono::steady_clock::now();
        open_socket(stream.next_layer().next_layer(), v.how);
        co_await exchange_resumed(stream, v.session);
        const outcome o{tfo_bench::seconds_since(start) * 1e3, tfo::get_fast_open_info(stream).syn_data_acked};
        co_await collect_tickets(stream);
        co_return o;
    }
    ssl::stream<tcp::socket> stream(executor, context);
    prepare_tls(stream);
    cache.resume(stream, server_name, endpoint.port());
    const auto start = std::chrono::steady_clock::now();
    open_socket(stream.next_layer(), v.how);
    co_await stream.next_layer().async_connect(endpoint, asio::use_awaitable);
    co_await exchange_resumed(stream, v.session);
    const outcome o{tfo_bench::seconds_since(start) * 1e3, tfo::get_fast_open_info(stream.next_layer()).syn_data_acked};
    co_await collect_tickets(stream);
    co_return o;
}

struct client_settings
{
    tcp::endpoint plain;
    tcp::endpoint tls;
    tcp::endpoint tls_early;
    tcp::endpoint mptcp;
    int reps = 100;
    double rtt_ms = 0;
    std::string raw_path;
};

struct samples
{
    std::vector<double> ms;
    int syn_data_acked = 0;
    int multipath = 0;
    std::vector<double> request_ms; // where the answer is stamped
};

asio::awaitable<void> run_client(const client_settings& settings, ssl::context& context,
                                 tfo::ssl::session_cache& cache)
{
    auto one = [&](const variant& v) {
        if (v.session != session_use::none)
            return one_tls_resumed(settings.tls_early, v, context, cache);
        if (v.tls)
            return one_tls(settings.tls, v.how, context);
        return one_plain(v.multipath ? settings.mptcp : settings.plain, v.how, v.multipath);
    };

    // The first connection of a run has no cookie yet (tfo-link starts with
    // empty TCP metrics): it fetches one. One per variant also warms the code.
    for (const variant& v : variants)
        co_await one(v);

    std::ofstream raw;
    if (!settings.raw_path.empty())
    {
        raw.open(settings.raw_path, std::ios::app);
        if (!raw)
            throw std::runtime_error("cannot open " + settings.raw_path);
    }

    std::array<samples, variants.size()> results;
    for (int rep = 0; rep < settings.reps; ++rep)
    {
        // Rotate the order each rep so that no variant always follows another.
        for (std::size_t k = 0; k < variants.size(); ++k)
        {
            const std::size_t i = (k + static_cast<std::size_t>(rep)) % variants.size();
            const outcome o = co_await one(variants[i]);
            results[i].ms.push_back(o.ms);
            results[i].syn_data_acked += o.syn_data_acked ? 1 : 0;
            results[i].multipath += o.multipath ? 1 : 0;
            if (o.request_ms >= 0 && !variants[i].tls)
                results[i].request_ms.push_back(o.request_ms);
            if (raw)
                raw << tfo_bench::fixed(settings.rtt_ms, 1) << ',' << variants[i].name << ',' << rep << ','
                    << tfo_bench::fixed(o.ms, 4) << ',' << (o.syn_data_acked ? 1 : 0) << '\n';
        }
    }

    const std::string setting = "rtt_" + tfo_bench::fixed(settings.rtt_ms, 0) + "ms";
    const bool target_rtt = settings.rtt_ms == 20;
    auto index_of = [](const char* name) {
        for (std::size_t i = 0; i < variants.size(); ++i)
            if (std::string_view(variants[i].name) == name)
                return i;
        throw std::logic_error("no such variant");
    };
    for (std::size_t i = 0; i < variants.size(); ++i)
    {
        const variant& v = variants[i];
        const bool is_tfo = v.how != connect_with::asio;
        const double med = tfo_bench::median(results[i].ms);
        const double base = tfo_bench::median(results[index_of(v.baseline)].ms);
        const double ratio = med / base;
        const int round_trips = round_trips_of(v);
        const int base_round_trips = round_trips_of(variants[index_of(v.baseline)]);
        tfo_bench::summary_row row;
        row.benchmark = "latency";
        row.setting = setting;
        row.variant = v.name;
        row.value = tfo_bench::fixed(med, 3);
        row.p99 = tfo_bench::fixed(tfo_bench::percentile(results[i].ms, 99), 3);
        row.unit = "ms";
        row.ratio = tfo_bench::fixed(ratio, 3);
        row.ratio_to = v.baseline;
        // Targets at RTT 20 ms: Fast Open alone (on Multipath TCP as well), and
        // Fast Open with early data (1 round trip of 3: at most 0.36 of the
        // full handshake).
        const double limit = v.session == session_use::early && is_tfo ? 0.36
                             : v.tls                                   ? 0.70
                             : v.multipath                             ? 0.55
                                                                       : 0.53;
        const bool has_target = is_tfo && (v.session == session_use::none || v.session == session_use::early);
        if (has_target && target_rtt)
        {
            row.target = "<=" + tfo_bench::fixed(limit, 2);
            row.met = ratio <= limit ? "yes" : "no";
        }
        row.note = "bound " + std::to_string(round_trips) + "/" + std::to_string(base_round_trips) + " RTT = " +
                   tfo_bench::fixed(static_cast<double>(round_trips) / base_round_trips, 3) + "; SYN data acked " +
                   std::to_string(results[i].syn_data_acked) + "/" + std::to_string(results[i].ms.size());
        if (v.multipath)
            row.note += "; MPTCP " + std::to_string(results[i].multipath) + "/" + std::to_string(results[i].ms.size());
        if (!results[i].request_ms.empty())
            row.note += "; request at the server after " +
                        tfo_bench::fixed(tfo_bench::median(results[i].request_ms), 3) + " ms";
        if (v.session == session_use::early && is_tfo)
        {
            // The second target: against resumption without early data.
            const double vs_resume = med / tfo_bench::median(results[index_of("tls_resume")].ms);
            row.note += "; vs tls_resume " + tfo_bench::fixed(vs_resume, 3);
            if (target_rtt)
            {
                row.note += std::string(" (target <=0.36 ") + (vs_resume <= 0.36 ? "met)" : "not met)");
                if (vs_resume > 0.36)
                    row.met = "no";
            }
        }
        row.print();
    }
}

int run_client_mode(const tfo_bench::options& options)
{
    const char* env_host = std::getenv("TFO_LINK_SERVER_ADDR");
    const char* env_rtt = std::getenv("TFO_LINK_RTT_MS");
    const auto address = asio::ip::make_address(options.get("host", env_host ? env_host : "127.0.0.1"));

    client_settings settings;
    settings.plain = {address, static_cast<unsigned short>(options.get_int("port", 8080))};
    settings.tls = {address, static_cast<unsigned short>(options.get_int("tls-port", 8443))};
    settings.tls_early = {address, static_cast<unsigned short>(options.get_int("tls-early-port", 8444))};
    settings.mptcp = {address, static_cast<unsigned short>(options.get_int("mptcp-port", 8081))};
    settings.reps = options.get_int("reps", 100);
    settings.rtt_ms = options.get_number("rtt-ms", env_rtt ? std::atof(env_rtt) : 0);
    settings.raw_path = options.get("raw", "");

    ssl::context context(ssl::context::tls_client);
    require_tls13(context);
    context.load_verify_file(options.get("ca", "cert.pem"));

    tfo::ssl::session_cache cache(context);

    asio::io_context io(1);
    std::exception_ptr failure;
    asio::co_spawn(io, run_client(settings, context, cache), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        const tfo_bench::options options(argc, argv);
        const std::string mode = options.get("mode", "");
        if (mode == "server")
            return run_server(options);
        if (mode == "client")
            return run_client_mode(options);
        std::cerr << "usage: latency --mode server|client [options]; see the comment at the top of latency.cpp\n";
        return 2;
    }
    catch (const std::exception& e)
    {
        std::cerr << "latency: " << e.what() << '\n';
        return 1;
    }
}
