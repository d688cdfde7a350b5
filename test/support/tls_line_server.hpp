//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A TLS server for the early-data tests, written with tfo::ssl: it answers
// one request line with "early=<0|1> <line>", at once, before the handshake
// completes, when the line came as early data, after the handshake
// otherwise. What it saw is recorded for the test to check.
//

#ifndef TFO_TEST_SUPPORT_TLS_LINE_SERVER_HPP
#define TFO_TEST_SUPPORT_TLS_LINE_SERVER_HPP

#include <tfo/fast_open_info.hpp>
#include <tfo/ssl/early_data.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <string>

namespace tfo::test {

namespace asio = boost::asio;

// What the server saw of one connection.
struct served
{
    bool early = false;          // the request arrived as early data (our server's flag)
    bool early_accepted = false; // SSL_get_early_data_status on the server
    bool resumed = false;
    bool syn_data = false;       // the accepted socket: data came in the SYN
    std::string request;
};

inline asio::awaitable<void> serve_one_line(asio::ip::tcp::acceptor& acceptor, asio::ssl::context& context,
                                           served& out)
{
    asio::ip::tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    out.syn_data = tfo::get_fast_open_info(socket).syn_data_acked;
    asio::ssl::stream<asio::ip::tcp::socket> stream(std::move(socket), context);

    std::array<char, 4096> buffer;
    std::string got;
    std::string answer;
    for (;;)
    {
        const std::size_t n =
            co_await tfo::ssl::async_read_early_data(stream, asio::buffer(buffer), asio::use_awaitable);
        if (n == 0)
            break;
        got.append(buffer.data(), n);
        if (answer.empty() && got.find('\n') != std::string::npos)
        {
            out.early = true;
            out.request = got.substr(0, got.find('\n'));
            answer = "early=1 " + out.request + '\n';
            co_await tfo::ssl::async_write_early_data(stream, asio::buffer(answer), asio::use_awaitable);
        }
    }
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
    out.early_accepted = tfo::ssl::early_data_accepted(stream);
    out.resumed = SSL_session_reused(stream.native_handle()) == 1;
    if (answer.empty())
    {
        co_await asio::async_read_until(stream, asio::dynamic_buffer(got), '\n', asio::use_awaitable);
        out.request = got.substr(0, got.find('\n'));
        answer = "early=0 " + out.request + '\n';
        co_await asio::async_write(stream, asio::buffer(answer), asio::use_awaitable);
    }
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

} // namespace tfo::test

#endif
