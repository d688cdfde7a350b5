//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The umbrella header is self-contained and gives every public name: each
// type is checked by kind at run time; each function is called with its
// arguments in an inline function that the compiler checks (every name must
// resolve, every overload accept these arguments) but that is never run or
// emitted, so it needs no network and links nothing extra.
#include <tfo/tfo.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_tfo)

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

[[maybe_unused]] inline void every_function_resolves(tcp::socket& socket, tcp::acceptor& acceptor)
{
    boost::system::error_code ec;
    const std::string_view data = "request";
    const tcp::endpoint endpoint;
    const std::vector<tcp::endpoint> endpoints{endpoint};

    // <tfo/async_fastopen_connect.hpp>
    tfo::async_fastopen_connect(socket, endpoint, asio::buffer(data), [](boost::system::error_code, std::size_t) {});
    tfo::async_fastopen_connect(socket, endpoints, asio::buffer(data),
                                [](boost::system::error_code, tcp::endpoint, std::size_t) {});
    tfo::async_fastopen_connect(socket, endpoint, asio::buffer(data), asio::detached);
    [[maybe_unused]] std::size_t n = tfo::fastopen_connect(socket, endpoint, asio::buffer(data));
    n = tfo::fastopen_connect(socket, endpoint, asio::buffer(data), ec);

    // <tfo/error.hpp>
    ec = tfo::make_error_code(tfo::error::not_supported);
    ec = tfo::error::not_supported; // is_error_code_enum
    [[maybe_unused]] const boost::system::error_category& category = tfo::error_category();

    // <tfo/fast_open_info.hpp>
    [[maybe_unused]] tfo::fast_open_info info = tfo::get_fast_open_info(socket);
    info = tfo::get_fast_open_info(socket, ec);
    [[maybe_unused]] std::string_view text = tfo::to_string(tfo::client_failure::cookie_unavailable);

    // <tfo/multipath.hpp>
    [[maybe_unused]] tfo::multipath_open_result opened = tfo::open_multipath(acceptor, tcp::v4());
    opened = tfo::open_multipath(socket, tcp::v6(), ec);
    [[maybe_unused]] tfo::multipath_info path_info = tfo::get_multipath_info(socket);
    path_info = tfo::get_multipath_info(acceptor, ec);

    // <tfo/socket_options.hpp>
    acceptor.set_option(tfo::fast_open{16});
    socket.set_option(tfo::fast_open_deferred_connect{true});
    socket.set_option(tfo::fast_open_no_cookie{true});
    const std::array<unsigned char, 16> key{};
    acceptor.set_option(tfo::fast_open_key{std::span<const unsigned char>(key)});

    // <tfo/system.hpp>
    [[maybe_unused]] tfo::fast_open_support support = tfo::system_support();
    support = tfo::system_support(ec);
    support = tfo::parse_fast_open_sysctl("3\n", ec);
    [[maybe_unused]] tfo::fast_open_counters counters = tfo::kernel_counters();
    counters = tfo::kernel_counters(ec);
    counters = tfo::parse_netstat("", ec);
    counters = counters - counters;
    [[maybe_unused]] tfo::multipath_counters multipath = tfo::kernel_multipath_counters();
    multipath = tfo::kernel_multipath_counters(ec);
    multipath = tfo::parse_multipath_netstat("", ec);
    multipath = multipath - multipath;
    [[maybe_unused]] tfo::multipath_support multipath_here = tfo::system_multipath_support();
    multipath_here = tfo::system_multipath_support(ec);
}

} // namespace

BOOST_AUTO_TEST_CASE(umbrella_names_every_type)
{
    // <tfo/error.hpp>
    BOOST_TEST((std::is_enum_v<tfo::error>));
    BOOST_TEST((boost::system::is_error_code_enum<tfo::error>::value));
    // <tfo/fast_open_info.hpp>
    BOOST_TEST((std::is_class_v<tfo::fast_open_info>));
    BOOST_TEST((std::is_enum_v<tfo::client_failure>));
    BOOST_TEST((std::is_enum_v<tfo::tcp_state>));
    // <tfo/multipath.hpp>
    BOOST_TEST((std::is_class_v<tfo::multipath_open_result>));
    BOOST_TEST((std::is_class_v<tfo::multipath_info>));
    // <tfo/socket_options.hpp>
    BOOST_TEST((std::is_class_v<tfo::fast_open>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_deferred_connect>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_no_cookie>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_key>));
    // <tfo/system.hpp>
    BOOST_TEST((std::is_class_v<tfo::fast_open_support>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_counters>));
    BOOST_TEST((std::is_class_v<tfo::multipath_counters>));
    BOOST_TEST((std::is_class_v<tfo::multipath_support>));
}

// The OpenSSL parts (tfo::ssl, tfo::key_schedule) stay out of the umbrella, as
// asio.hpp leaves out asio/ssl.hpp.
#if defined(TFO_SSL_EARLY_DATA_HPP) || defined(TFO_SSL_SESSION_CACHE_HPP) || defined(OPENSSL_SSL_H) || \
    defined(TFO_KEY_SCHEDULE_HPP) || defined(OPENSSL_HMAC_H)
#error "tfo/tfo.hpp must not include the OpenSSL parts"
#endif

BOOST_AUTO_TEST_SUITE_END() // unit_tfo
