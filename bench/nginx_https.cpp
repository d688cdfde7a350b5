//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// nginx_https: an HTTPS GET against nginx itself (issue 11), timed from
// "open a socket" to "the response is read", over the emulated link. The
// server is nginx with `listen ... ssl fastopen=N; ssl_early_data on;`, whose
// answer names `$ssl_early_data`; bench/run.sh starts it in the server's
// namespace through tools/link (tfo-link) and this client in the client's:
//
//   nginx_https --host H --port 8443 --ca cert.pem [--reps 20] [--raw FILE]
//
// Variants, each after one unmeasured connection that gets a Fast Open
// cookie and a ticket (Beast over asio::ssl in every case):
//   https_full      async_connect + full TLS 1.3 handshake + GET      3 RTT
//   https_resume    async_connect + resumption, no early data + GET   3 RTT
//   https_early     async_connect + resumption, GET as early data     2 RTT
//   https_tfo       tfo::fast_open_stream + full handshake + GET      2 RTT
//   https_early_tfo tfo::fast_open_stream + resumption, GET as early
//                   data: ClientHello and GET in the SYN              1 RTT
//

#include "bench_support.hpp"

#include <tfo/fast_open_info.hpp>
#include <tfo/fast_open_stream.hpp>
#include <tfo/ssl/early_data.hpp>
#include <tfo/ssl/session_cache.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

struct variant
{
    const char* name;
    bool fast_open; // tfo::fast_open_stream, else asio's async_connect
    bool resume;    // a ticket from the previous connection
    bool early;     // the GET as early data
    int round_trips;
};

constexpr variant variants[] = {
    {"https_full", false, false, false, 3},  {"https_resume", false, true, false, 3},
    {"https_early", false, true, true, 2},   {"https_tfo", true, false, false, 2},
    {"https_early_tfo", true, true, true, 1},
};

struct sample
{
    double ms = 0;
    bool syn_data_acked = false;
    bool early_accepted = false; // our side: SSL_get_early_data_status
    bool nginx_early = false;    // nginx's side: $ssl_early_data was 1
};

struct client
{
    tcp::endpoint server;
    std::string request;
    ssl::context context{ssl::context::tls_client};
    tfo::ssl::session_cache cache{context};

    template <typename NextLayer>
    asio::awaitable<sample> exchange(ssl::stream<NextLayer>& stream, const variant& v,
                                     std::chrono::steady_clock::time_point start)
    {
        sample s;
        SSL_set_tlsext_host_name(stream.native_handle(), "tfo-bench");
        stream.set_verify_callback(ssl::host_name_verification("tfo-bench"));
        if (v.resume)
            cache.resume(stream, "tfo-bench", server.port());
        if (v.early)
        {
            const auto outcome = co_await tfo::ssl::async_handshake_and_write(
                stream, asio::buffer(request), tfo::ssl::replay_safety::safe, asio::use_awaitable);
            s.early_accepted = outcome.status == tfo::ssl::early_data_status::accepted;
        }
        else
        {
            co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
            co_await asio::async_write(stream, asio::buffer(request), asio::use_awaitable);
        }
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> response;
        co_await http::async_read(stream, buffer, response, asio::use_awaitable);
        s.ms = tfo_bench::seconds_since(start) * 1000;
        if (response.result() != http::status::ok)
            throw std::runtime_error("nginx answered " + std::to_string(response.result_int()));
        s.nginx_early = response.body().starts_with("early=1");
        s.syn_data_acked = tfo::get_fast_open_info(stream).syn_data_acked;
        // close_notify both ways: the tickets nginx sends after the
        // handshake come in meanwhile, for the next connection.
        co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
        co_return s;
    }

    asio::awaitable<sample> one(const variant& v)
    {
        const auto executor = co_await asio::this_coro::executor;
        const auto start = std::chrono::steady_clock::now();
        // No Nagle: the GET written after the handshake must not wait for the
        // ACK of the client's Finished (one more round trip).
        if (v.fast_open)
        {
            ssl::stream<tfo::fast_open_stream> stream(tfo::fast_open_stream(executor, server), context);
            stream.lowest_layer().open(server.protocol()); // kept by the stream: options set here apply
            stream.lowest_layer().set_option(tcp::no_delay(true));
            co_return co_await exchange(stream, v, start);
        }
        ssl::stream<tcp::socket> stream(executor, context);
        co_await stream.next_layer().async_connect(server, asio::use_awaitable);
        stream.next_layer().set_option(tcp::no_delay(true));
        co_return co_await exchange(stream, v, start);
    }
};

int run(const tfo_bench::options& o)
{
    const char* env_host = std::getenv("TFO_LINK_SERVER_ADDR");
    const auto address = asio::ip::make_address(o.get("host", env_host ? env_host : "127.0.0.1"));
    const int reps = o.get_int("reps", 20);
    const double rtt_ms = o.get_number("rtt-ms", 20);
    std::ofstream raw;
    if (o.has("raw"))
        raw.open(o.get("raw", ""), std::ios::app);

    client c;
    c.server = {address, static_cast<unsigned short>(o.get_int("port", 8443))};
    c.request = "GET /bench HTTP/1.1\r\nHost: tfo-bench\r\nUser-Agent: tfo nginx_https\r\n\r\n";
    SSL_CTX_set_min_proto_version(c.context.native_handle(), TLS1_3_VERSION);
    c.context.load_verify_file(o.get("ca", "cert.pem"));
    c.context.set_verify_mode(ssl::verify_peer);

    asio::io_context io;
    auto run_one = [&](const variant& v) {
        auto f = asio::co_spawn(io, c.one(v), asio::use_future);
        io.restart();
        io.run();
        return f.get();
    };

    std::vector<std::vector<double>> ms(std::size(variants));
    std::vector<sample> last(std::size(variants));
    std::vector<int> in_syn(std::size(variants)), accepted(std::size(variants)), nginx_early(std::size(variants));
    for (std::size_t i = 0; i < std::size(variants); ++i)
        run_one(variants[i]); // the cookie and a ticket
    // Interleaved, so that a slow moment of the machine spreads over all variants.
    for (int rep = 0; rep < reps; ++rep)
        for (std::size_t i = 0; i < std::size(variants); ++i)
        {
            const sample s = run_one(variants[i]);
            ms[i].push_back(s.ms);
            in_syn[i] += s.syn_data_acked;
            accepted[i] += s.early_accepted;
            nginx_early[i] += s.nginx_early;
            if (raw)
                raw << variants[i].name << ',' << rep + 1 << ',' << tfo_bench::fixed(s.ms, 3) << ','
                    << s.syn_data_acked << ',' << s.early_accepted << ',' << s.nginx_early << '\n';
        }

    const double full = tfo_bench::median(ms[0]);
    const double resume = tfo_bench::median(ms[1]);
    for (std::size_t i = 0; i < std::size(variants); ++i)
    {
        const variant& v = variants[i];
        const double median = tfo_bench::median(ms[i]);
        const bool one_rtt = v.round_trips == 1;
        const std::string note = "RTT multiples " + tfo_bench::fixed(median / rtt_ms, 2) + " (" +
                                 std::to_string(v.round_trips) + " expected); in SYN " + std::to_string(in_syn[i]) +
                                 "/" + std::to_string(reps) + "; early accepted " + std::to_string(accepted[i]) +
                                 "; nginx saw early " + std::to_string(nginx_early[i]) +
                                 (one_rtt ? "; ratio to https_resume " + tfo_bench::fixed(median / resume, 3) : "");
        tfo_bench::summary_row{"nginx_https",
                               "rtt_" + tfo_bench::fixed(rtt_ms, 0) + "ms",
                               v.name,
                               tfo_bench::fixed(median, 1),
                               tfo_bench::fixed(tfo_bench::percentile(ms[i], 99), 1),
                               "ms",
                               tfo_bench::fixed(median / full, 3),
                               "https_full",
                               one_rtt ? "<= 0.36 of full and of resume" : "",
                               one_rtt ? (median <= 0.36 * full && median <= 0.36 * resume ? "yes" : "no") : "",
                               note}
            .print();
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        return run(tfo_bench::options(argc, argv));
    }
    catch (const std::exception& e)
    {
        std::cerr << "nginx_https: " << e.what() << '\n';
        return 1;
    }
}
