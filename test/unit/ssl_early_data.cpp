//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The early-data API without a network: every operation instantiates with
// the usual completion tokens, and the decisions taken before any I/O.
//

#include <tfo/ssl/early_data.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <array>
#include <ctime>
#include <memory>
#include <string>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_ssl_early_data)

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using tfo::ssl::not_attempted_reason;
using tfo::ssl::replay_safety;

namespace {

struct ssl_deleter
{
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

// A resumable TLS 1.3 session allowing `max_early_data`, issued for `host`.
SSL_SESSION* make_ticket(std::uint32_t max_early_data, const char* host = nullptr, int version = TLS1_3_VERSION)
{
    SSL_SESSION* s = SSL_SESSION_new();
    const unsigned char id[32] = {1};
    SSL_SESSION_set1_id(s, id, sizeof id);
    SSL_SESSION_set_protocol_version(s, version);
    SSL_SESSION_set_time(s, static_cast<long>(std::time(nullptr)));
    SSL_SESSION_set_timeout(s, 3600);
    SSL_SESSION_set_max_early_data(s, max_early_data);
    if (host != nullptr)
        SSL_SESSION_set1_hostname(s, host);
    return s;
}

not_attempted_reason decide(SSL_SESSION* ticket, std::size_t size, replay_safety safety, const char* sni = nullptr)
{
    ssl::context context(ssl::context::tls_client);
    ssl_ptr s(SSL_new(context.native_handle()));
    if (sni != nullptr)
        SSL_set_tlsext_host_name(s.get(), sni);
    if (ticket != nullptr)
    {
        SSL_set_session(s.get(), ticket);
        SSL_SESSION_free(ticket);
    }
    return tfo::ssl::detail::early_data_decision(s.get(), size, safety);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_operation_takes_every_token)
{
    asio::io_context io;
    ssl::context context(ssl::context::tls);
    ssl::stream<tcp::socket> stream(io, context);
    const std::string request = "GET /";
    std::array<char, 16> buffer;
    using outcome = tfo::ssl::early_data_outcome;

    // Compile-only: nothing runs.
    if (false)
    {
        tfo::ssl::async_handshake_and_write(stream, asio::buffer(request), replay_safety::safe,
                                            [](boost::system::error_code, outcome) {});
        tfo::ssl::async_handshake_and_write(stream, asio::buffer(request), replay_safety::safe, asio::detached);
        [[maybe_unused]] auto f = tfo::ssl::async_handshake_and_write(stream, asio::buffer(request),
                                                                      replay_safety::not_safe, asio::use_future);
        [[maybe_unused]] auto d = tfo::ssl::async_handshake_and_write(stream, asio::buffer(request),
                                                                      replay_safety::safe, asio::deferred);
        [[maybe_unused]] auto a = tfo::ssl::async_handshake_and_write(
            stream, asio::buffer(request), replay_safety::safe, asio::as_tuple(asio::use_awaitable));
        tfo::ssl::async_read_early_data(stream, asio::buffer(buffer), [](boost::system::error_code, std::size_t) {});
        [[maybe_unused]] auto r = tfo::ssl::async_read_early_data(stream, asio::buffer(buffer), asio::use_awaitable);
        tfo::ssl::async_write_early_data(stream, asio::buffer(request), asio::detached);
        [[maybe_unused]] auto w = tfo::ssl::async_write_early_data(stream, asio::buffer(request), asio::deferred);
    }
    BOOST_TEST(!tfo::ssl::early_data_accepted(stream));
}

BOOST_AUTO_TEST_CASE(an_empty_buffer_is_refused_without_blocking)
{
    asio::io_context io;
    ssl::context context(ssl::context::tls_server);
    ssl::stream<tcp::socket> stream(io, context);
    boost::system::error_code got;
    bool called = false;
    tfo::ssl::async_read_early_data(stream, asio::mutable_buffer(), [&](boost::system::error_code ec, std::size_t) {
        got = ec;
        called = true;
    });
    BOOST_TEST(!called); // never inside the initiating call
    io.run();
    BOOST_TEST(called);
    BOOST_TEST((got == asio::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(when_early_data_is_attempted)
{
    BOOST_TEST((decide(make_ticket(16384), 100, replay_safety::safe) == not_attempted_reason::none));
    BOOST_TEST((decide(make_ticket(16384), 100, replay_safety::not_safe) == not_attempted_reason::not_replay_safe));
    BOOST_TEST((decide(nullptr, 100, replay_safety::safe) == not_attempted_reason::no_ticket));
    BOOST_TEST((decide(make_ticket(0), 100, replay_safety::safe) == not_attempted_reason::not_allowed));
    BOOST_TEST((decide(make_ticket(16384, nullptr, TLS1_2_VERSION), 100, replay_safety::safe) ==
                not_attempted_reason::not_allowed));
    BOOST_TEST((decide(make_ticket(64), 65, replay_safety::safe) == not_attempted_reason::too_big));
    BOOST_TEST((decide(make_ticket(64), 64, replay_safety::safe) == not_attempted_reason::none));
    // Nothing to send is not a refusal by the ticket.
    BOOST_TEST((decide(make_ticket(16384), 0, replay_safety::safe) == not_attempted_reason::empty_request));
    // A ticket that records a server name carries early data to that name only.
    BOOST_TEST((decide(make_ticket(16384, "a.example"), 10, replay_safety::safe, "a.example") ==
                not_attempted_reason::none));
    BOOST_TEST((decide(make_ticket(16384, "a.example"), 10, replay_safety::safe, "b.example") ==
                not_attempted_reason::not_allowed));
    BOOST_TEST((decide(make_ticket(16384, "a.example"), 10, replay_safety::safe) == not_attempted_reason::not_allowed));
}

BOOST_AUTO_TEST_CASE(syn_data_limits)
{
    BOOST_TEST(tfo::ssl::syn_data_limit_v4 == 1420u);
    BOOST_TEST(tfo::ssl::syn_data_limit_v6 == 1400u);
    tfo::ssl::early_data_outcome o;
    o.syn_data_limit = 1420;
    o.first_flight_size = 1420;
    BOOST_TEST(o.first_flight_fits_syn());
    o.first_flight_size = 1421;
    BOOST_TEST(!o.first_flight_fits_syn());
}

BOOST_AUTO_TEST_CASE(record_headers)
{
    boost::system::error_code ec;
    BOOST_TEST(tfo::ssl::detail::record_body_size({22, 3, 1, 0x02, 0x00}, ec) == 512u);
    BOOST_TEST(!ec);
    BOOST_TEST(tfo::ssl::detail::record_body_size({23, 3, 3, 0x40, 0x11}, ec) == 0x4011u);
    BOOST_TEST(!ec);
    tfo::ssl::detail::record_body_size({'G', 'E', 'T', ' ', '/'}, ec); // plain HTTP to a TLS port
    BOOST_TEST(ec.failed());
    tfo::ssl::detail::record_body_size({23, 3, 3, 0x48, 0x01}, ec); // longer than any TLS record
    BOOST_TEST(ec.failed());
    tfo::ssl::detail::record_body_size({23, 3, 3, 0, 0}, ec);
    BOOST_TEST(ec.failed());
}

BOOST_AUTO_TEST_CASE(descriptions)
{
    using tfo::ssl::early_data_status;
    BOOST_TEST(tfo::ssl::to_string(early_data_status::accepted) == "accepted");
    BOOST_TEST(tfo::ssl::to_string(early_data_status::rejected_and_resent) == "rejected and resent");
    BOOST_TEST(tfo::ssl::to_string(early_data_status::not_attempted) == "not attempted");
    BOOST_TEST(tfo::ssl::to_string(not_attempted_reason::no_ticket) == "no ticket");
    BOOST_TEST(tfo::ssl::to_string(not_attempted_reason::too_big) == "too big for the ticket");
    BOOST_TEST(tfo::ssl::to_string(not_attempted_reason::empty_request) == "empty request");
}

BOOST_AUTO_TEST_SUITE_END() // unit_ssl_early_data
