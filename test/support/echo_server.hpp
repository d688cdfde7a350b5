//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A TFO echo server for the load and fault tests: each connection is read to
// the end, then everything is sent back and the socket closed. Reading all
// before answering keeps a client that writes everything first from
// deadlocking against full socket buffers.
//

#ifndef TFO_TEST_SUPPORT_ECHO_SERVER_HPP
#define TFO_TEST_SUPPORT_ECHO_SERVER_HPP

#include <tfo/fast_open_info.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace tfo::test {

struct echo_stats
{
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> with_data_in_syn{0}; ///< accepted with data in the SYN (TCP_INFO)
};

namespace detail {

// Coroutines are free functions taking what they use as parameters: a
// coroutine lambda would refer to its closure after the closure is gone.
inline boost::asio::awaitable<void> echo_session(boost::asio::ip::tcp::socket s, echo_stats& stats)
{
    namespace asio = boost::asio;
    // The kernel's word (TCP_INFO on the accepted socket), not bytes that
    // happen to be queued at accept.
    if (tfo::get_fast_open_info(s).syn_data_acked)
        ++stats.with_data_in_syn;
    std::string data;
    auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(data), asio::as_tuple(asio::use_awaitable));
    if (ec != asio::error::eof)
        co_return;
    co_await asio::async_write(s, asio::buffer(data), asio::as_tuple(asio::use_awaitable));
    stats.bytes += n;
    ++stats.connections;
}

inline boost::asio::awaitable<void> echo_accept_loop(boost::asio::ip::tcp::acceptor& acceptor, echo_stats& stats)
{
    namespace asio = boost::asio;
    for (;;)
    {
        auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor.is_open())
            co_return;
        if (!ec)
            asio::co_spawn(acceptor.get_executor(), echo_session(std::move(s), stats), asio::detached);
    }
}

} // namespace detail

/// Accepts on `acceptor` until it is closed, echoing every connection.
inline void start_echo_server(boost::asio::ip::tcp::acceptor& acceptor, echo_stats& stats)
{
    boost::asio::co_spawn(acceptor.get_executor(), detail::echo_accept_loop(acceptor, stats),
                          boost::asio::detached);
}

/// Deterministic, fast pseudo-random bytes: the same `seed` gives the same bytes.
inline std::string pattern(std::size_t size, std::uint64_t seed)
{
    std::string s(size, '\0');
    std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (std::size_t i = 0; i < size; ++i)
    {
        if (i % 8 == 0)
        {
            // splitmix64
            x += 0x9e3779b97f4a7c15ull;
            std::uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            seed = z ^ (z >> 31);
        }
        s[i] = static_cast<char>(seed >> (8 * (i % 8)));
    }
    return s;
}

} // namespace tfo::test

#endif
