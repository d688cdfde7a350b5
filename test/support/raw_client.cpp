//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "raw_client.hpp"

#include <tfo/multipath.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio/read.hpp>
#include <boost/test/unit_test.hpp>

namespace tfo::test {

boost::asio::ip::tcp::acceptor make_listener(boost::asio::io_context& io, const boost::asio::ip::tcp& protocol,
                                             int queue, bool multipath)
{
    boost::asio::ip::tcp::acceptor acceptor(io);
    if (multipath)
    {
        const auto opened = tfo::open_multipath(acceptor, protocol);
        BOOST_REQUIRE_MESSAGE(opened.multipath, "Multipath TCP listener: " << opened.fallback.message());
    }
    else
    {
        acceptor.open(protocol);
    }
    if (queue > 0)
        acceptor.set_option(tfo::fast_open{queue});
    const auto loopback = protocol == boost::asio::ip::tcp::v4()
                              ? boost::asio::ip::address(boost::asio::ip::address_v4::loopback())
                              : boost::asio::ip::address(boost::asio::ip::address_v6::loopback());
    acceptor.bind({loopback, 0});
    acceptor.listen();
    return acceptor;
}

raw_connection raw_connect_once(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor& acceptor,
                                std::string_view data)
{
    const auto before = tfo::kernel_counters();
    boost::system::error_code ec;
    auto client = tfo::netns::raw_fastopen_client(io, acceptor.local_endpoint(), data, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "raw fast-open connect: " << ec.message());
    auto server = acceptor.accept();
    const std::size_t readable = server.available();
    std::string received(data.size(), '\0');
    boost::asio::read(server, boost::asio::buffer(received));
    BOOST_TEST(received == data);
    return {std::move(client), std::move(server), tfo::kernel_counters() - before, readable};
}

} // namespace tfo::test
