//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// What the results of the system steps mean: the SYN's send, and a connect's error.

#include <tfo/detail/connect_steps.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/error.hpp>

#include <cerrno>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_detail_connect_steps)

namespace asio = boost::asio;
using tfo::detail::syn_send_outcome;

BOOST_AUTO_TEST_CASE(syn_send_data_in_syn)
{
    auto r = tfo::detail::classify_syn_send(1200, 0);
    BOOST_TEST((r.outcome == syn_send_outcome::syn_sent));
    BOOST_TEST(r.bytes == 1200u);
    BOOST_TEST(!r.ec);
}

BOOST_AUTO_TEST_CASE(syn_send_cookie_request)
{
    auto r = tfo::detail::classify_syn_send(-1, EINPROGRESS);
    BOOST_TEST((r.outcome == syn_send_outcome::syn_sent));
    BOOST_TEST(r.bytes == 0u);
}

BOOST_AUTO_TEST_CASE(syn_send_client_tfo_off_falls_back)
{
    auto r = tfo::detail::classify_syn_send(-1, EOPNOTSUPP);
    BOOST_TEST((r.outcome == syn_send_outcome::fall_back));
    BOOST_TEST(!r.ec);
}

BOOST_AUTO_TEST_CASE(syn_send_immediate_errors)
{
    for (int e : {ECONNREFUSED, ENETUNREACH, EALREADY, EISCONN, EAGAIN, EADDRNOTAVAIL})
    {
        auto r = tfo::detail::classify_syn_send(-1, e);
        BOOST_TEST((r.outcome == syn_send_outcome::failed));
        BOOST_TEST(r.ec.value() == e);
        BOOST_TEST((r.ec.category() == boost::system::system_category()));
    }
}

BOOST_AUTO_TEST_CASE(a_reset_means_the_peer_had_established_the_connection)
{
    for (auto e : {asio::error::connection_reset, asio::error::broken_pipe})
    {
        auto h = tfo::detail::outcome_of_connect_error(e);
        BOOST_TEST(h.established);
        BOOST_TEST((h.ec == e));
    }
}

BOOST_AUTO_TEST_CASE(a_refusal_or_a_timeout_means_it_never_was)
{
    for (auto e : {asio::error::connection_refused, asio::error::timed_out, asio::error::host_unreachable,
                   asio::error::network_unreachable, asio::error::operation_aborted})
        BOOST_TEST(!tfo::detail::outcome_of_connect_error(e).established);
    BOOST_TEST(tfo::detail::outcome_of_connect_error({}).established);
}

BOOST_AUTO_TEST_SUITE_END() // unit_detail_connect_steps
