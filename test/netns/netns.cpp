//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo::netns, the private namespaces every other namespace test stands on:
// the probe leaves the caller where it was, a private_netns really is a new
// namespace with its own sysctl, and the raw client makes a fast-open
// connection there.

#include <tfo/netns/private_netns.hpp>
#include <tfo/netns/raw_client.hpp>

#include <boost/test/unit_test.hpp>

#include "netns.hpp"

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <fstream>
#include <string>
#include <unistd.h>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_netns)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;

namespace {

std::string namespace_of(const char* kind)
{
    char target[64] = {};
    const ssize_t n = ::readlink((std::string("/proc/thread-self/ns/") + kind).c_str(), target, sizeof target - 1);
    return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

std::string read_line(const char* path)
{
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

} // namespace

// First in this program: the probe is made once per process, and it must run
// here, before anything else could have moved the process.
BOOST_AUTO_TEST_CASE(probe_changes_nothing_in_the_caller)
{
    const std::string net = namespace_of("net"), user = namespace_of("user");
    const auto uid = ::geteuid();
    BOOST_REQUIRE(!net.empty());
    const auto reason = tfo::netns::unavailable_reason();
    BOOST_TEST_MESSAGE("probe: " << (reason ? *reason : std::string("namespaces available")));
    BOOST_TEST(namespace_of("net") == net);
    BOOST_TEST(namespace_of("user") == user);
    BOOST_TEST(::geteuid() == uid);
    BOOST_TEST((tfo::netns::unavailable_reason() == reason)); // cached, same answer
}

BOOST_AUTO_TEST_SUITE(private_netns, *ut::precondition(tfo::test::netns_available) * ut::timeout(30))

BOOST_AUTO_TEST_CASE(enters_a_new_namespace_and_leaves_it)
{
    const std::string home = namespace_of("net"), user = namespace_of("user");
    const std::string home_fastopen = read_line("/proc/sys/net/ipv4/tcp_fastopen");
    {
        tfo::netns::private_netns ns(0x207);
        BOOST_TEST(namespace_of("net") != home);
        BOOST_TEST(ns.native_handle() >= 0);
        BOOST_TEST(read_line("/proc/sys/net/ipv4/tcp_fastopen") == "519");
        ns.set_tcp_fastopen(1);
        BOOST_TEST(read_line("/proc/sys/net/ipv4/tcp_fastopen") == "1");
        BOOST_TEST(tfo::netns::private_netns::run("ip -o link show lo | grep -q 'LOOPBACK,UP'") == 0);
    }
    // As root the destructor goes home, and the host's setting is as it was.
    // Without root the process entered a user namespace of its own, the way
    // back is refused (see leave()) and it stays in a private namespace.
    if (namespace_of("user") == user)
        BOOST_TEST(namespace_of("net") == home);
    if (namespace_of("net") == home)
        BOOST_TEST(read_line("/proc/sys/net/ipv4/tcp_fastopen") == home_fastopen);
}

BOOST_AUTO_TEST_CASE(raw_client_makes_a_fast_open_connection)
{
    tfo::netns::private_netns ns(3);
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    acceptor.set_option(tfo::fast_open{4});
    const std::string data = "raw client";
    for (int i = 0; i < 2; ++i)
    {
        const auto before = tfo::kernel_counters();
        boost::system::error_code ec;
        auto client = tfo::netns::raw_fastopen_client(io, acceptor.local_endpoint(), data, ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        auto server = acceptor.accept();
        std::string got(data.size(), '\0');
        asio::read(server, asio::buffer(got));
        BOOST_TEST(got == data);
        const auto counted = tfo::kernel_counters() - before;
        // The first connection fetches a cookie, the second carries the data in its SYN.
        BOOST_TEST(counted.cookie_reqd == (i == 0 ? 1u : 0u));
        BOOST_TEST(counted.passive == (i == 0 ? 0u : 1u));
        BOOST_TEST(tfo::get_fast_open_info(client).syn_data_acked == (i == 1));
    }
}

BOOST_AUTO_TEST_CASE(raw_client_reports_a_refused_connection)
{
    tfo::netns::private_netns ns(3);
    asio::io_context io;
    tcp::endpoint nobody_listens;
    {
        tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
        nobody_listens = probe.local_endpoint();
    }
    boost::system::error_code ec;
    auto client = tfo::netns::raw_fastopen_client(io, nobody_listens, "x", ec);
    BOOST_TEST(ec == asio::error::connection_refused);
    BOOST_TEST(!client.is_open());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_netns
