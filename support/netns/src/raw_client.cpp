//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/netns/raw_client.hpp>

#include <boost/asio/error.hpp>

#include <cerrno>
#include <sys/socket.h>

namespace tfo::netns {

void fastopen_sendto(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp::endpoint& server,
                     std::string_view data, boost::system::error_code& ec)
{
    ec.clear();
    const ssize_t n = ::sendto(socket.native_handle(), data.data(), data.size(), MSG_FASTOPEN | MSG_NOSIGNAL,
                               server.data(), static_cast<socklen_t>(server.size()));
    if (n < 0)
        ec.assign(errno, boost::system::system_category());
    else if (static_cast<std::size_t>(n) != data.size())
        ec = boost::asio::error::message_size;
}

boost::asio::ip::tcp::socket raw_fastopen_client(boost::asio::io_context& io,
                                                 const boost::asio::ip::tcp::endpoint& server, std::string_view data,
                                                 boost::system::error_code& ec)
{
    boost::asio::ip::tcp::socket socket(io);
    socket.open(server.protocol(), ec);
    if (ec)
        return socket;
    fastopen_sendto(socket, server, data, ec);
    if (ec)
    {
        boost::system::error_code ignored;
        socket.close(ignored);
    }
    return socket;
}

} // namespace tfo::netns
