//
// tfo: TCP Fast Open for Boost.Asio
//
// latency: the time from "open a socket" to "the whole response is read" for
// a fresh connection carrying one 100-byte request and one 100-byte response,
// with and without TCP Fast Open, in clear and over TLS 1.3.
//
// Run both sides through bench/link/tfo_link, which puts them in two network
// namespaces joined by a link with a set round-trip time (see bench/run.sh):
//
//   latency --mode server --port 8080 --tls-port 8443 --cert C --key K
//   latency --mode client --host H --port 8080 --tls-port 8443 --ca C
//           [--reps 100] [--raw FILE]
//
// The client measures six variants, interleaved rep by rep so that any drift
// hits them all alike:
//
//   asio            socket.async_connect + async_write + async_read
//   tfo_async       tfo::async_fastopen_connect (request in the SYN) + async_read
//   tfo_option      the tfo::fast_open_deferred_connect option, then the same Asio code as asio
//   tls_asio        async_connect + ssl handshake + write + read
//   tls_tfo_async   ssl::stream over tfo::fast_open_stream: the ClientHello written by
//                   tfo::async_fastopen_connect
//   tls_tfo_option  the tfo::fast_open_deferred_connect option, then the same code as tls_asio
//
// It writes every sample to --raw (CSV) and one summary row per variant to
// stdout (see bench_support.hpp).
//

#include "bench_support.hpp"

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/fast_open_stream.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <array>
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
    co_await asio::async_write(stream, asio::buffer(response), asio::use_awaitable);
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

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ssl::context* tls)
{
    for (;;)
    {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted)
            co_return;
        if (ec)
            continue;
        auto executor = acceptor.get_executor();
        if (tls)
            asio::co_spawn(executor, serve_tls(std::move(socket), *tls), log_failure);
        else
            asio::co_spawn(executor, serve_plain(std::move(socket)), log_failure);
    }
}

tcp::acceptor make_acceptor(asio::io_context& io, const tcp::endpoint& endpoint)
{
    tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol());
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

    // The TLS port listens first: tfo_link --ready-port waits for the plain one.
    tcp::acceptor tls_acceptor = make_acceptor(io, {address, static_cast<unsigned short>(options.get_int("tls-port", 8443))});
    tcp::acceptor acceptor = make_acceptor(io, {address, static_cast<unsigned short>(options.get_int("port", 8080))});

    asio::co_spawn(io, accept_loop(tls_acceptor, &tls), log_failure);
    asio::co_spawn(io, accept_loop(acceptor, nullptr), log_failure);

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

struct variant
{
    const char* name;
    bool tls;
    connect_with how;
    const char* baseline; // the variant its ratio is taken against
};

constexpr std::array<variant, 6> variants{{
    {"asio", false, connect_with::asio, "asio"},
    {"tfo_async", false, connect_with::tfo_async, "asio"},
    {"tfo_option", false, connect_with::tfo_option, "asio"},
    {"tls_asio", true, connect_with::asio, "tls_asio"},
    {"tls_tfo_async", true, connect_with::tfo_async, "tls_asio"},
    {"tls_tfo_option", true, connect_with::tfo_option, "tls_asio"},
}};

struct outcome
{
    double ms = 0;
    bool syn_data_acked = false;
};

void open_socket(tcp::socket& socket, connect_with how)
{
    socket.open(tcp::v4());
    // TLS writes its Finished and then the request: without this, Nagle would
    // hold the request until the Finished is acknowledged.
    socket.set_option(tcp::no_delay(true));
    if (how == connect_with::tfo_option)
        socket.set_option(tfo::fast_open_deferred_connect{true});
}

void check_response(const std::array<char, message_size>& got)
{
    if (got != response)
        throw std::runtime_error("unexpected response");
}

asio::awaitable<outcome> one_plain(const tcp::endpoint& endpoint, connect_with how)
{
    const auto start = std::chrono::steady_clock::now();
    tcp::socket socket(co_await asio::this_coro::executor);
    open_socket(socket, how);
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
    check_response(got);
    co_return outcome{ms, tfo::get_fast_open_info(socket).syn_data_acked};
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

struct client_settings
{
    tcp::endpoint plain;
    tcp::endpoint tls;
    int reps = 100;
    double rtt_ms = 0;
    std::string raw_path;
};

struct samples
{
    std::vector<double> ms;
    int syn_data_acked = 0;
};

asio::awaitable<void> run_client(const client_settings& settings, ssl::context& context)
{
    auto one = [&](const variant& v) {
        return v.tls ? one_tls(settings.tls, v.how, context) : one_plain(settings.plain, v.how);
    };

    // The first connection of a run has no cookie yet (tfo_link starts with
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
        // Round trips needed: TCP 1 + request 1, TLS 1.3 adds its handshake's 1;
        // Fast Open takes the TCP handshake's off.
        const int round_trips = (v.tls ? 3 : 2) - (is_tfo ? 1 : 0);
        const int base_round_trips = v.tls ? 3 : 2;
        tfo_bench::summary_row row;
        row.benchmark = "latency";
        row.setting = setting;
        row.variant = v.name;
        row.value = tfo_bench::fixed(med, 3);
        row.p99 = tfo_bench::fixed(tfo_bench::percentile(results[i].ms, 99), 3);
        row.unit = "ms";
        row.ratio = tfo_bench::fixed(ratio, 3);
        row.ratio_to = v.baseline;
        const double limit = v.tls ? 0.70 : 0.53;
        if (is_tfo && target_rtt)
        {
            row.target = "<=" + tfo_bench::fixed(limit, 2);
            row.met = ratio <= limit ? "yes" : "no";
        }
        row.note = "bound " + std::to_string(round_trips) + "/" + std::to_string(base_round_trips) + " RTT = " +
                   tfo_bench::fixed(static_cast<double>(round_trips) / base_round_trips, 3) + "; SYN data acked " +
                   std::to_string(results[i].syn_data_acked) + "/" + std::to_string(results[i].ms.size());
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
    settings.reps = options.get_int("reps", 100);
    settings.rtt_ms = options.get_number("rtt-ms", env_rtt ? std::atof(env_rtt) : 0);
    settings.raw_path = options.get("raw", "");

    ssl::context context(ssl::context::tls_client);
    require_tls13(context);
    context.load_verify_file(options.get("ca", "cert.pem"));

    asio::io_context io(1);
    std::exception_ptr failure;
    asio::co_spawn(io, run_client(settings, context), [&](std::exception_ptr e) { failure = e; });
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
