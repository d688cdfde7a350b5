//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Boost.Test glue around tfo::netns::raw_fastopen_client: a listener and
// one raw fast-open connection whose arrival the test checks.
//

#ifndef TFO_TEST_SUPPORT_RAW_CLIENT_HPP
#define TFO_TEST_SUPPORT_RAW_CLIENT_HPP

#include <tfo/system.hpp>

#include <tfo/netns/raw_client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <string_view>

namespace tfo::test {

/// A listening acceptor on an ephemeral loopback port of `protocol`, with
/// `tfo::fast_open{queue}` set before listen() when `queue` is positive;
/// opened as Multipath TCP when `multipath` (the test fails if it cannot be).
boost::asio::ip::tcp::acceptor make_listener(boost::asio::io_context& io, const boost::asio::ip::tcp& protocol,
                                             int queue, bool multipath = false);

/// Both ends of one connection made by `raw_connect_once`.
struct raw_connection
{
    boost::asio::ip::tcp::socket client;
    boost::asio::ip::tcp::socket server;
    tfo::fast_open_counters counted;     ///< what this connection added to the namespace's counters
    std::size_t readable_at_accept = 0;  ///< bytes already queued when accept returned
};

/// One raw fast-open connection to `acceptor` carrying `data`, accepted and
/// read on the server side; fails the test when the data does not arrive.
raw_connection raw_connect_once(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor& acceptor,
                                std::string_view data);

} // namespace tfo::test

#endif
