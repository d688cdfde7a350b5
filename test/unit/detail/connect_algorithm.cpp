//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The decisions of a fast-open connect, without a network: every path of the
// algorithm that both the asynchronous and the synchronous forms drive, and
// above all what each one reports as delivered.

#include <tfo/detail/connect_algorithm.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/error.hpp>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_detail_connect_algorithm)

namespace asio = boost::asio;
using tfo::detail::connect_algorithm;
using tfo::detail::handshake_outcome;
using tfo::detail::syn_send_outcome;
using tfo::detail::syn_send_result;
using step = connect_algorithm::step;
using ct = asio::cancellation_type;

namespace {

const syn_send_result syn_with(std::size_t bytes) { return {syn_send_outcome::syn_sent, bytes, {}}; }
const handshake_outcome established{{}, true};
const handshake_outcome refused{asio::error::connection_refused, false};
const handshake_outcome reset_after_handshake{asio::error::connection_reset, true};
const handshake_outcome aborted_in_syn_sent{asio::error::operation_aborted, false};
const handshake_outcome aborted_after_handshake{asio::error::operation_aborted, true};

// Starts an algorithm and sends the first SYN with `in_syn` bytes.
connect_algorithm after_syn(std::size_t endpoints, std::size_t total, std::size_t in_syn, bool every = true)
{
    connect_algorithm a(endpoints, total, every);
    BOOST_REQUIRE((a.start() == step::prepare_socket));
    BOOST_REQUIRE((a.socket_prepared({}) == step::send_syn));
    BOOST_REQUIRE((a.syn_sent(syn_with(in_syn)) == step::await_syn_ack));
    return a;
}

} // namespace

BOOST_AUTO_TEST_CASE(empty_sequence_is_not_found)
{
    connect_algorithm a(0, 10, true);
    BOOST_TEST((a.start() == step::complete));
    BOOST_TEST((a.error() == asio::error::not_found));
    BOOST_TEST(a.bytes_written() == 0u);
}

BOOST_AUTO_TEST_CASE(everything_in_the_syn)
{
    auto a = after_syn(1, 100, 100);
    BOOST_TEST((a.handshake_done(established, ct::none) == step::complete));
    BOOST_TEST(!a.error());
    BOOST_TEST(a.bytes_written() == 100u);
    BOOST_TEST(a.established());
}

// A stale or spurious wake-up: the platform finds the SYN still outstanding.
// Nothing was delivered or learned; the algorithm waits again, and the
// answer that comes later decides.
BOOST_AUTO_TEST_CASE(a_stale_wake_up_waits_again)
{
    auto a = after_syn(2, 100, 60);
    BOOST_TEST((a.handshake_done(handshake_outcome::still_unanswered(), ct::none) == step::await_syn_ack));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(!a.established());
    BOOST_TEST(a.bytes_in_syn() == 60u, "the SYN's data is still in flight");
    BOOST_TEST((a.event().kind == tfo::detail::path_event_kind::none));
    BOOST_TEST(a.hedge_delay_us() == 0u);
    // The peer refuses later: the next endpoint, from the first byte.
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(a.endpoint_index() == 1u);

    auto b = after_syn(1, 100, 60);
    BOOST_TEST((b.handshake_done(handshake_outcome::still_unanswered(), ct::none) == step::await_syn_ack));
    BOOST_TEST((b.handshake_done(established, ct::none) == step::write));
    BOOST_TEST(b.bytes_written() == 60u);

    // Cancelled meanwhile: the operation ends, nothing delivered.
    auto c = after_syn(1, 100, 60);
    BOOST_TEST((c.handshake_done(handshake_outcome::still_unanswered(), ct::terminal) == step::complete));
    BOOST_TEST((c.error() == asio::error::operation_aborted));
    BOOST_TEST(c.bytes_written() == 0u);
}

BOOST_AUTO_TEST_CASE(the_rest_is_written_after_the_handshake)
{
    auto a = after_syn(1, 5000, 1400);
    BOOST_TEST((a.handshake_done(established, ct::none) == step::write));
    BOOST_TEST((a.written({}, 2000, ct::none) == step::write));
    BOOST_TEST((a.written({}, 1600, ct::none) == step::complete));
    BOOST_TEST(!a.error());
    BOOST_TEST(a.bytes_written() == 5000u);
}

BOOST_AUTO_TEST_CASE(refused_syn_delivered_nothing)
{
    auto a = after_syn(1, 100, 100);
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_refused));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(!a.established());
}

BOOST_AUTO_TEST_CASE(sequence_moves_on_after_a_refusal_and_starts_again)
{
    auto a = after_syn(3, 100, 100);
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.endpoint_index() == 1u);
    BOOST_TEST(a.reopen());
    BOOST_TEST(a.bytes_in_syn() == 0u);
    BOOST_TEST((a.socket_prepared({}) == step::send_syn));
    BOOST_TEST((a.syn_sent({syn_send_outcome::failed, 0, asio::error::network_unreachable}) == step::prepare_socket));
    BOOST_TEST(a.endpoint_index() == 2u);
    BOOST_TEST((a.socket_prepared({}) == step::send_syn));
    BOOST_TEST((a.syn_sent(syn_with(60)) == step::await_syn_ack));
    BOOST_TEST((a.handshake_done(established, ct::none) == step::write));
    BOOST_TEST((a.written({}, 40, ct::none) == step::complete));
    BOOST_TEST(a.bytes_written() == 100u);
    BOOST_TEST(a.endpoint_index() == 2u);
}

BOOST_AUTO_TEST_CASE(every_endpoint_refuses)
{
    auto a = after_syn(2, 10, 10);
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::prepare_socket));
    BOOST_TEST((a.socket_prepared({}) == step::send_syn));
    BOOST_TEST((a.syn_sent(syn_with(10)) == step::await_syn_ack));
    BOOST_TEST((a.handshake_done({asio::error::timed_out, false}, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::timed_out), "the last endpoint's error");
    BOOST_TEST(a.bytes_written() == 0u);
}

BOOST_AUTO_TEST_CASE(single_endpoint_overload_never_moves_on)
{
    auto a = after_syn(3, 10, 10, false);
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::complete));
    BOOST_TEST(!a.reopen());
}

// Issue 14, item 1: the server read the request out of the SYN, then reset.
BOOST_AUTO_TEST_CASE(reset_after_the_handshake_reports_the_syn_data_as_delivered)
{
    auto a = after_syn(1, 1000, 1000);
    BOOST_TEST((a.handshake_done(reset_after_handshake, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_reset));
    BOOST_TEST(a.bytes_written() == 1000u);
    BOOST_TEST(a.established());
}

BOOST_AUTO_TEST_CASE(reset_after_the_handshake_ends_a_sequence)
{
    auto a = after_syn(2, 1000, 1000);
    BOOST_TEST((a.handshake_done(reset_after_handshake, ct::none) == step::complete),
               "the next endpoint would receive the request a second time");
    BOOST_TEST(a.endpoint_index() == 0u);
    BOOST_TEST(a.bytes_written() == 1000u);
}

BOOST_AUTO_TEST_CASE(reset_while_writing_counts_what_went_out)
{
    auto a = after_syn(2, 5000, 1000);
    BOOST_TEST((a.handshake_done(established, ct::none) == step::write));
    BOOST_TEST((a.written({}, 1500, ct::none) == step::write));
    BOOST_TEST((a.written(asio::error::connection_reset, 0, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_reset));
    BOOST_TEST(a.bytes_written() == 2500u);
    BOOST_TEST(a.endpoint_index() == 0u);
}

BOOST_AUTO_TEST_CASE(plain_connect_after_a_fallback)
{
    connect_algorithm a(1, 300, false);
    a.start();
    a.socket_prepared({});
    BOOST_TEST((a.syn_sent({syn_send_outcome::fall_back, 0, {}}) == step::connect));
    BOOST_TEST((a.handshake_done(established, ct::none) == step::write));
    BOOST_TEST((a.written({}, 300, ct::none) == step::complete));
    BOOST_TEST(a.bytes_written() == 300u);
}

BOOST_AUTO_TEST_CASE(a_socket_that_cannot_be_readied_stops_the_sequence)
{
    connect_algorithm a(3, 10, true);
    a.start();
    BOOST_TEST((a.socket_prepared(asio::error::already_connected) == step::complete));
    BOOST_TEST((a.error() == asio::error::already_connected));
}

// Issue 14, item 2: cancellation reports what the kernel did.
BOOST_AUTO_TEST_CASE(cancelled_before_an_answer_delivered_nothing)
{
    for (ct type : {ct::terminal, ct::partial, ct::total})
    {
        auto a = after_syn(2, 1000, 1000);
        BOOST_TEST((a.handshake_done(aborted_in_syn_sent, type) == step::complete));
        BOOST_TEST((a.error() == asio::error::operation_aborted));
        BOOST_TEST(a.bytes_written() == 0u);
        BOOST_TEST(a.endpoint_index() == 0u, "cancellation stops the sequence");
    }
}

BOOST_AUTO_TEST_CASE(cancelled_after_the_handshake_counts_the_syn_data)
{
    for (ct type : {ct::terminal, ct::partial})
    {
        auto a = after_syn(1, 1000, 1000);
        BOOST_TEST((a.handshake_done(aborted_after_handshake, type) == step::complete));
        BOOST_TEST((a.error() == asio::error::operation_aborted));
        BOOST_TEST(a.bytes_written() == 1000u);
    }
    // socket.cancel(): no slot, the wait itself was aborted.
    auto a = after_syn(1, 1000, 1000);
    BOOST_TEST((a.handshake_done(aborted_after_handshake, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 1000u);
}

BOOST_AUTO_TEST_CASE(cancelled_when_the_handshake_completed_anyway)
{
    auto a = after_syn(1, 1000, 400);
    BOOST_TEST((a.handshake_done(established, ct::terminal) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 400u);
}

BOOST_AUTO_TEST_CASE(cancelled_while_writing_counts_what_went_out)
{
    auto a = after_syn(1, 10000, 1000);
    a.handshake_done(established, ct::none);
    BOOST_TEST((a.written({}, 3000, ct::partial) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 4000u);
    auto b = after_syn(1, 10000, 1000);
    b.handshake_done(established, ct::none);
    BOOST_TEST((b.written(asio::error::operation_aborted, 0, ct::terminal) == step::complete));
    BOOST_TEST(b.bytes_written() == 1000u);
}

BOOST_AUTO_TEST_CASE(total_cancellation_only_while_no_data_left_the_host)
{
    const ct all = ct::terminal | ct::partial | ct::total;
    const ct with_side_effects = ct::terminal | ct::partial;

    // A SYN that asks for a cookie carries none of the data.
    auto cookie_request = after_syn(1, 100, 0);
    BOOST_TEST((cookie_request.honoured_cancellation() == all));
    // A SYN with data: it may already have been delivered.
    auto data = after_syn(1, 100, 60);
    BOOST_TEST((data.honoured_cancellation() == with_side_effects));
    BOOST_TEST((data.handshake_done(established, ct::none) == step::write));
    BOOST_TEST((data.honoured_cancellation() == with_side_effects));

    connect_algorithm plain(1, 100, false);
    plain.start();
    plain.socket_prepared({});
    plain.syn_sent({syn_send_outcome::fall_back, 0, {}});
    BOOST_TEST((plain.honoured_cancellation() == all));
    BOOST_TEST((plain.handshake_done(established, ct::none) == step::write));
    BOOST_TEST((plain.honoured_cancellation() == all), "nothing written yet");
    plain.written({}, 10, ct::none);
    BOOST_TEST((plain.honoured_cancellation() == with_side_effects));
}

BOOST_AUTO_TEST_CASE(empty_data_completes_at_the_handshake)
{
    auto a = after_syn(1, 0, 0);
    BOOST_TEST((a.handshake_done(established, ct::none) == step::complete));
    BOOST_TEST(!a.error());
    BOOST_TEST(a.bytes_written() == 0u);
}

// Issue 9: what the path memory advises, and what the algorithm teaches it.

namespace {

tfo::detail::path_advice plain_advice()
{
    tfo::detail::path_advice a;
    a.fast_open = false;
    a.observe_plain = true;
    return a;
}

tfo::detail::path_advice hedged(std::uint32_t delay_us, bool retry = false)
{
    tfo::detail::path_advice a;
    a.hedge_delay_us = delay_us;
    a.retry_plain_after_reset = retry;
    return a;
}

handshake_outcome with_evidence(bool acked, tfo::detail::syn_failure failure, bool retransmitted)
{
    tfo::detail::syn_evidence e;
    e.read = true;
    e.data_acked = acked;
    e.failure = failure;
    e.retransmitted = retransmitted;
    e.rtt_us = 100;
    return {{}, true, e};
}

} // namespace

using tfo::detail::path_event_kind;
using tfo::detail::syn_failure;

BOOST_AUTO_TEST_CASE(plain_advice_skips_the_fast_open_syn)
{
    connect_algorithm a(1, 300, false);
    a.start();
    BOOST_TEST((a.socket_prepared({}, plain_advice()) == step::connect), "no Fast Open option at all");
    BOOST_TEST(a.observe_connect());
    BOOST_TEST(a.hedge_delay_us() == 0u);
    BOOST_TEST((a.handshake_done(with_evidence(false, syn_failure::none, true), ct::none) == step::write));
    BOOST_TEST((a.event().kind == path_event_kind::plain_lost));
    BOOST_TEST((a.written({}, 300, ct::none) == step::complete));
    BOOST_TEST(a.bytes_written() == 300u);
    BOOST_TEST((a.event().kind == path_event_kind::none), "a write teaches nothing");
}

BOOST_AUTO_TEST_CASE(the_handshake_teaches_the_path_memory)
{
    struct
    {
        handshake_outcome h;
        path_event_kind expected;
    } cases[] = {
        {with_evidence(true, syn_failure::none, false), path_event_kind::fast_open_acked},
        {with_evidence(false, syn_failure::syn_retransmitted, true), path_event_kind::syn_lost},
        {with_evidence(false, syn_failure::data_not_acked, true), path_event_kind::data_refused},
        {with_evidence(false, syn_failure::cookie_unavailable, false), path_event_kind::cookie_answered},
        {refused, path_event_kind::none},
    };
    for (const auto& c : cases)
    {
        auto a = after_syn(1, 100, 100);
        a.handshake_done(c.h, ct::none);
        BOOST_TEST((a.event().kind == c.expected));
        BOOST_TEST(a.event_endpoint_index() == 0u);
    }
    connect_algorithm fallback(1, 10, false);
    fallback.start();
    fallback.socket_prepared({});
    fallback.syn_sent({syn_send_outcome::fall_back, 0, {}});
    BOOST_TEST(!fallback.observe_connect());
    fallback.handshake_done(with_evidence(false, syn_failure::none, true), ct::none);
    BOOST_TEST((fallback.event().kind == path_event_kind::none), "Fast Open was not possible: nothing to learn");
}

BOOST_AUTO_TEST_CASE(the_hedge_delay_applies_to_the_fast_open_wait_only)
{
    connect_algorithm a(1, 100, false);
    a.start();
    a.socket_prepared({}, hedged(60'000));
    BOOST_TEST(a.hedge_delay_us() == 0u, "not before the SYN left");
    a.syn_sent(syn_with(100));
    BOOST_TEST(a.hedge_delay_us() == 60'000u);
    a.handshake_done(established, ct::none);
    BOOST_TEST(a.hedge_delay_us() == 0u);
}

BOOST_AUTO_TEST_CASE(a_cookie_request_is_hedged_only_where_none_passed_before)
{
    auto advice = hedged(60'000);
    advice.hedge_cookie_request = false;
    connect_algorithm cookie_request(1, 100, false);
    cookie_request.start();
    cookie_request.socket_prepared({}, advice);
    cookie_request.syn_sent(syn_with(0)); // no cookie: the data waits, the SYN asks for one
    BOOST_TEST(cookie_request.hedge_delay_us() == 0u);

    connect_algorithm data(1, 100, false);
    data.start();
    data.socket_prepared({}, advice);
    data.syn_sent(syn_with(100));
    BOOST_TEST(data.hedge_delay_us() == 60'000u, "data in the SYN: hedged");
}

BOOST_AUTO_TEST_CASE(the_hedge_wins_and_everything_goes_on_its_connection)
{
    connect_algorithm a(1, 5000, false);
    a.start();
    a.socket_prepared({}, hedged(60'000));
    a.syn_sent(syn_with(1400));
    a.hedge_started();
    BOOST_TEST((a.hedge_won({}, ct::none) == step::write));
    BOOST_TEST(a.bytes_written() == 0u, "the silent SYN's data is not counted");
    BOOST_TEST(a.bytes_in_syn() == 0u);
    BOOST_TEST(a.established());
    BOOST_TEST((a.event().kind == path_event_kind::hedge_won));
    BOOST_TEST(a.event().hedge_started);
    BOOST_TEST((a.written({}, 5000, ct::none) == step::complete));
    BOOST_TEST(a.bytes_written() == 5000u);
}

BOOST_AUTO_TEST_CASE(the_syn_wins_over_a_started_hedge)
{
    connect_algorithm a(1, 100, false);
    a.start();
    a.socket_prepared({}, hedged(60'000));
    a.syn_sent(syn_with(100));
    a.hedge_started();
    BOOST_TEST((a.handshake_done(with_evidence(true, syn_failure::none, false), ct::none) == step::complete));
    BOOST_TEST((a.event().kind == path_event_kind::fast_open_acked));
    BOOST_TEST(a.event().hedge_started, "counted as a hedge started, not won");
    BOOST_TEST(a.bytes_written() == 100u);
}

BOOST_AUTO_TEST_CASE(cancelled_while_the_hedge_raced)
{
    connect_algorithm a(1, 100, false);
    a.start();
    a.socket_prepared({}, hedged(60'000));
    a.syn_sent(syn_with(100));
    a.hedge_started();
    BOOST_TEST((a.handshake_done(aborted_in_syn_sent, ct::terminal) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(a.event().hedge_started);
}

// Item (c): a reset in answer to SYN data, where connections were accepted before.
BOOST_AUTO_TEST_CASE(a_reset_to_syn_data_is_retried_once_plain)
{
    connect_algorithm a(1, 100, false);
    a.start();
    a.socket_prepared({}, hedged(0, true));
    a.syn_sent(syn_with(100));
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.retrying_plain());
    BOOST_TEST(a.reopen(), "a refused socket is opened again");
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST((a.socket_prepared({}, {}) == step::connect), "plain, whatever the advice");
    BOOST_TEST((a.handshake_done(established, ct::none) == step::write));
    BOOST_TEST((a.event().kind == path_event_kind::reset_on_syn_data));
    BOOST_TEST((a.written({}, 100, ct::none) == step::complete));
    BOOST_TEST(!a.error());
    BOOST_TEST(a.bytes_written() == 100u);
}

BOOST_AUTO_TEST_CASE(a_reset_to_syn_data_and_to_the_plain_syn_is_a_refusal)
{
    connect_algorithm a(1, 100, false);
    a.start();
    a.socket_prepared({}, hedged(0, true));
    a.syn_sent(syn_with(100));
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::prepare_socket));
    a.socket_prepared({}, {});
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_refused));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST((a.event().kind == path_event_kind::none));
}

BOOST_AUTO_TEST_CASE(no_retry_without_data_or_history)
{
    // A cookie request refused: the server is not there.
    connect_algorithm a(1, 100, false);
    a.start();
    a.socket_prepared({}, hedged(0, true));
    a.syn_sent(syn_with(0));
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::complete));
    // SYN data refused where nothing was ever accepted: the server's answer.
    connect_algorithm b(1, 100, false);
    b.start();
    b.socket_prepared({}, hedged(0, false));
    b.syn_sent(syn_with(100));
    BOOST_TEST((b.handshake_done(refused, ct::none) == step::complete));
}

BOOST_AUTO_TEST_CASE(a_sequence_asks_for_advice_per_endpoint)
{
    connect_algorithm a(2, 100, true);
    a.start();
    a.socket_prepared({}, plain_advice());
    BOOST_TEST((a.handshake_done(refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.endpoint_index() == 1u);
    BOOST_TEST((a.socket_prepared({}, {}) == step::send_syn), "the second endpoint's own advice: Fast Open");
    BOOST_TEST((a.syn_sent(syn_with(100)) == step::await_syn_ack));
    a.handshake_done(with_evidence(true, syn_failure::none, false), ct::none);
    BOOST_TEST((a.event().kind == path_event_kind::fast_open_acked));
    BOOST_TEST(a.event_endpoint_index() == 1u);
}

BOOST_AUTO_TEST_SUITE_END() // unit_detail_connect_algorithm
