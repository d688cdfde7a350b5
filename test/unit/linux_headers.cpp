//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// <linux/tcp.h> clashes with glibc's <netinet/tcp.h>, which Asio's socket
// headers include. tfo's evidence, option and system headers include
// neither, so a program that uses the kernel's own struct tcp_info can still
// use them. (The connect operation needs Asio's sockets, and so <netinet/tcp.h>.)
#include <linux/tcp.h>

#include <tfo/detail/linux_tcp.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_linux_headers)

namespace {

// A socket type of the user's own, as get_fast_open_info accepts any.
struct plain_socket
{
    int fd;
    bool is_open() const { return fd >= 0; }
    int native_handle() const { return fd; }
};

} // namespace

BOOST_AUTO_TEST_CASE(kernel_tcp_info_beside_tfo)
{
    // The kernel header's own constants agree with ours.
    BOOST_TEST(TCP_FASTOPEN == tfo::fast_open{}.name(0));
    BOOST_TEST(TCP_FASTOPEN_CONNECT == tfo::fast_open_deferred_connect{}.name(0));
    BOOST_TEST(TCP_FASTOPEN_KEY == tfo::fast_open_key{}.name(0));
    BOOST_TEST(TCP_FASTOPEN_NO_COOKIE == tfo::fast_open_no_cookie{}.name(0));
    BOOST_TEST(TCPI_OPT_SYN_DATA == tfo::detail::tcpi_opt_syn_data);
    BOOST_TEST(TFO_SYN_RETRANSMITTED == static_cast<int>(tfo::client_failure::syn_retransmitted));

    // And our TCP_INFO prefix has the kernel's layout.
    tcp_info kernel{};
    kernel.tcpi_state = 1;
    kernel.tcpi_options = TCPI_OPT_SYN_DATA;
    kernel.tcpi_fastopen_client_fail = TFO_DATA_NOT_ACKED;
    tfo::detail::tcp_info_prefix ours{};
    std::memcpy(&ours, &kernel, sizeof ours);
    BOOST_TEST(ours.state == 1);
    BOOST_TEST(ours.options == TCPI_OPT_SYN_DATA);
    BOOST_TEST(static_cast<int>(ours.fastopen_client_fail) == TFO_DATA_NOT_ACKED);

    plain_socket s{::socket(AF_INET, SOCK_STREAM, 0)};
    boost::system::error_code ec;
    tfo::get_fast_open_info(s, ec);
    BOOST_TEST((ec == tfo::error::not_a_connection));
    ::close(s.fd);
}

BOOST_AUTO_TEST_SUITE_END() // unit_linux_headers
