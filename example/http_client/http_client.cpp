//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// http_client: a Boost.Beast HTTP/1.1 client that sends its GET in the SYN.
//
// The client is ordinary Beast code over a `tfo::fast_open_stream` instead of
// a `beast::tcp_stream`: the stream is given the resolver's results and
// connects at its first write, which is Beast's `http::async_write` of the
// request, so the request rides in the SYN when the kernel holds a cookie for
// the server. `expires_after` works as on `tcp_stream`, the connect included.
// Against a server without TFO the same code connects and writes the
// ordinary way.
//
// Usage: http_client <host> <port> [<target>] [--count N]
//
// It makes N connections one after another (default 1), one GET each: the
// first to a server only fetches a cookie, the later ones carry the request
// in the SYN. Exits non-zero unless every response is 200 OK.
//

#include <tfo/fast_open_info.hpp>
#include <tfo/fast_open_stream.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

asio::awaitable<void> run(std::string host, std::string port, std::string target, int count)
{
    const auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);

    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host + ':' + port);
    request.set(http::field::user_agent, "tfo http_client");
    request.keep_alive(false); // one request per connection, to show one SYN each

    for (int i = 1; i <= count; ++i)
    {
        // TFO: connects at the first write, which carries the request in the SYN.
        tfo::fast_open_stream stream(executor, endpoints);
        stream.expires_after(std::chrono::seconds(10)); // connect, request and response together

        co_await http::async_write(stream, request, asio::use_awaitable);
        boost::system::error_code info_error; // not_supported where tfo has no Fast Open (Windows)
        const tfo::fast_open_info info = tfo::get_fast_open_info(stream, info_error);

        beast::flat_buffer buffer;
        http::response<http::string_body> response;
        co_await http::async_read(stream, buffer, response, asio::use_awaitable);

        std::string_view body = response.body();
        if (body.ends_with('\n'))
            body.remove_suffix(1);
        std::cout << "connection " << i << ": " << response.result_int() << ' ' << response.reason() << ", body \""
                  << body << "\", request in SYN: " << (info.syn_data_acked ? "yes" : "no");
        if (info_error)
            std::cout << " (" << info_error.message() << ')';
        else if (!info.syn_data_acked)
            std::cout << " (" << tfo::to_string(info.failure) << ')';
        std::cout << std::endl;
        if (response.result() != http::status::ok)
            throw std::runtime_error("the server did not answer 200 OK");
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
    if (argc < 3)
    {
        std::cerr << "usage: http_client <host> <port> [<target>] [--count N]\n";
        return 2;
    }
    try
    {
        std::string target = "/";
        int count = 1;
        for (int i = 3; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            if (arg == "--count" && i + 1 < argc)
                count = to_count(argv[++i]);
            else if (i == 3 && arg.starts_with('/'))
                target = arg;
            else
                throw std::invalid_argument("unknown argument: " + std::string(arg));
        }

        asio::io_context io;
        asio::co_spawn(io, run(argv[1], argv[2], target, count), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e); // out of io.run(), into the catch below
        });
        io.run();
        return EXIT_SUCCESS;
    }
    catch (const std::exception& e)
    {
        std::cerr << "http_client: " << e.what() << std::endl;
        return EXIT_FAILURE;
    }
}
