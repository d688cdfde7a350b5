//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A fast-open client that uses the kernel's interface directly, with no tfo
// code in the way: the tests of the server side and of the evidence
// functions, and tfo-doctor's self-test, must not depend on the library's
// own client.
//

#ifndef TFO_NETNS_RAW_CLIENT_HPP
#define TFO_NETNS_RAW_CLIENT_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <string_view>

namespace tfo::netns {

/// One blocking `sendto(MSG_FASTOPEN)` of all of `data` to `server` on the
/// open, unconnected, blocking `socket` (options may already be set on it).
/// Returns once the handshake is done and all of `data` is queued; sets `ec`
/// on failure, `message_size` when the kernel took only part of `data`.
void fastopen_sendto(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp::endpoint& server,
                     std::string_view data, boost::system::error_code& ec);

/// Opens a socket for `server`'s protocol and calls `fastopen_sendto`;
/// returns the connected socket, or a closed one with `ec` set.
boost::asio::ip::tcp::socket raw_fastopen_client(boost::asio::io_context& io,
                                                 const boost::asio::ip::tcp::endpoint& server, std::string_view data,
                                                 boost::system::error_code& ec);

} // namespace tfo::netns

#endif
