//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// https_client: an HTTPS GET in one round trip, with Boost.Beast over
// asio::ssl over tfo::fast_open_stream.
//
// The first connection to a server is an ordinary one: a full TLS 1.3
// handshake, during which the server sends session tickets, and a Fast Open
// cookie for its address. From the second connection on, the request goes
// as TLS 1.3 early data together with the ClientHello, and both ride in the
// SYN: the response comes back with the server's handshake, one round trip
// after the SYN. The lines that make this happen are marked TFO.
//
// A GET without side effects may be processed twice (early data can be
// replayed), so it is marked safe to replay; --unsafe marks it not safe,
// and it then waits for the handshake.
//
// Usage: https_client <host> <port> <ca-certificate.pem> <target> [--count N] [--unsafe]
//
// Each of the N connections (default 2) prints the status, what became of
// the early data, whether the first flight came in the SYN and the time from
// opening the connection to the end of the response, then the body.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/fast_open_stream.hpp>
#include <tfo/ssl/early_data.hpp>
#include <tfo/ssl/session_cache.hpp>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <chrono>
#include <iomanip>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

struct settings
{
    std::string host;
    std::string port;
    std::string target;
    int count = 2;
    tfo::ssl::replay_safety safety = tfo::ssl::replay_safety::safe;
};

asio::awaitable<void> run(const settings& s, ssl::context& context, tfo::ssl::session_cache& cache)
{
    const auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(s.host, s.port, asio::use_awaitable);
    const auto port = static_cast<std::uint16_t>(std::stoi(s.port));

    // The request, serialized once: it is the early data.
    http::request<http::empty_body> request{http::verb::get, s.target, 11};
    request.set(http::field::host, s.host);
    request.set(http::field::user_agent, "tfo https_client");
    std::ostringstream text;
    text << request;
    const std::string request_text = text.str();

    for (int i = 1; i <= s.count; ++i)
    {
        const auto start = std::chrono::steady_clock::now();
        // TFO: the stream connects on its first write, with that write in the SYN.
        ssl::stream<tfo::fast_open_stream> stream(tfo::fast_open_stream(executor, endpoints), context);
        stream.next_layer().expires_after(std::chrono::seconds(10));
        SSL_set_tlsext_host_name(stream.native_handle(), s.host.c_str());
        stream.set_verify_callback(ssl::host_name_verification(s.host));
        cache.resume(stream, s.host, port); // TFO: a ticket from an earlier connection, if any

        // TFO: ClientHello + request as early data, in one write: the SYN.
        const auto outcome = co_await tfo::ssl::async_handshake_and_write(stream, asio::buffer(request_text),
                                                                          s.safety, asio::use_awaitable);
        beast::flat_buffer buffer;
        http::response<http::string_body> response;
        co_await http::async_read(stream, buffer, response, asio::use_awaitable);
        const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
        const auto info = tfo::get_fast_open_info(stream); // through lowest_layer()

        std::cout << "connection " << i << ": HTTP " << response.result_int() << ", early data "
                  << tfo::ssl::to_string(outcome.status);
        if (outcome.status == tfo::ssl::early_data_status::not_attempted)
            std::cout << " (" << tfo::ssl::to_string(outcome.reason) << ')';
        else
            std::cout << ", first flight " << outcome.first_flight_size << " bytes"
                      << (outcome.first_flight_fits_syn() ? "" : " (more than a SYN carries)");
        std::cout << ", in SYN: " << (info.syn_data_acked ? "yes" : "no");
        if (!info.syn_data_acked)
            std::cout << " (" << tfo::to_string(info.failure) << ')';
        std::cout << ", " << std::fixed << std::setprecision(1) << elapsed.count() << " ms\n"
                  << response.body() << std::flush;

        auto [ec] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
        if (ec && ec != asio::error::eof && ec != ssl::error::stream_truncated)
            throw boost::system::system_error(ec, "shutdown");
    }
}

int to_count(std::string_view text)
{
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1)
        throw std::invalid_argument("not a positive count: " + std::string(text));
    return value;
}

} // namespace

int main(int argc, char* argv[])
{
    if (argc < 5)
    {
        std::cerr << "usage: https_client <host> <port> <ca-certificate.pem> <target> [--count N] [--unsafe]\n";
        return 2;
    }
    try
    {
        settings s{argv[1], argv[2], argv[4]};
        for (int i = 5; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            if (arg == "--count" && i + 1 < argc)
                s.count = to_count(argv[++i]);
            else if (arg == "--unsafe")
                s.safety = tfo::ssl::replay_safety::not_safe;
            else
                throw std::invalid_argument("unknown argument: " + std::string(arg));
        }

        ssl::context context(ssl::context::tls_client);
        SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
        context.load_verify_file(argv[3]);
        context.set_verify_mode(ssl::verify_peer);
        tfo::ssl::session_cache cache(context); // TFO: keeps the tickets servers send

        asio::io_context io;
        asio::co_spawn(io, run(s, context, cache), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // out of io.run(), into the catch below
        });
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "https_client: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
