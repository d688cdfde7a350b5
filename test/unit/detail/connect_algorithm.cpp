//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The decisions of a fast-open connect, without a network: the algorithm
// that both drivers (asynchronous and synchronous, and the stream through
// them) perform, resumed with scripted results, and above all what it
// reports as delivered.

#include <tfo/detail/connect_algorithm.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/asio/error.hpp>

#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_detail_connect_algorithm)

namespace asio = boost::asio;
using tfo::detail::connect_action;
using tfo::detail::connect_algorithm;
using tfo::detail::connect_event;
using tfo::detail::handshake_outcome;
using tfo::detail::path_advice;
using tfo::detail::syn_send_outcome;
using tfo::detail::syn_send_result;
using step = connect_action;
using ct = asio::cancellation_type;

namespace {

const syn_send_result syn_with(std::size_t bytes) { return {syn_send_outcome::syn_sent, bytes, {}}; }
const handshake_outcome established{{}, true};
const handshake_outcome refused{asio::error::connection_refused, false};
const handshake_outcome reset_after_handshake{asio::error::connection_reset, true};
const handshake_outcome aborted_in_syn_sent{asio::error::operation_aborted, false};
const handshake_outcome aborted_after_handshake{asio::error::operation_aborted, true};

// A driver's part, scripted: each helper resumes the algorithm with the
// result of the action it asked for, as the drivers would, and passes
// through the report to the path memory (the tests read `event()`).

connect_algorithm make(std::size_t endpoints, std::size_t total, bool every = true, bool hedge = true)
{
    return connect_algorithm(endpoints, total, {every, hedge});
}

step through_report(connect_algorithm& a, step next)
{
    return next == step::report ? a.resume({}) : next;
}

step start(connect_algorithm& a)
{
    return a.resume({});
}

// The socket is ready (or not), and the path memory advised `advice`.
step prepared(connect_algorithm& a, const boost::system::error_code& ec = {}, const path_advice& advice = {})
{
    BOOST_REQUIRE((a.action() == step::prepare_socket));
    connect_event e;
    e.ec = ec;
    step next = a.resume(e);
    if (next != step::advise)
        return next;
    connect_event advised;
    advised.advice = advice;
    return a.resume(advised);
}

step sent(connect_algorithm& a, const syn_send_result& r)
{
    BOOST_REQUIRE((a.action() == step::send_syn));
    connect_event e;
    e.syn = r;
    return a.resume(e);
}

// The handshake ended with `h`: the SYN's wait (and the platform's read),
// or an ordinary connect (and the evidence read, when asked for).
step answered(connect_algorithm& a, const handshake_outcome& h, ct cancelled = ct::none,
              bool hedge_started = false)
{
    connect_event e;
    e.cancelled = cancelled;
    if (a.action() == step::connect)
    {
        e.ec = h.ec;
        step next = a.resume(e);
        if (next == step::read_evidence)
        {
            connect_event read;
            read.evidence = h.syn;
            read.cancelled = cancelled;
            next = a.resume(read);
        }
        return through_report(a, next);
    }
    BOOST_REQUIRE((a.action() == step::await_syn_ack));
    e.ec = h.ec;
    e.hedge_started = hedge_started;
    BOOST_REQUIRE((a.resume(e) == step::read_outcome));
    BOOST_TEST(a.wait_error() == h.ec);
    connect_event read;
    read.outcome = h;
    read.cancelled = cancelled;
    return through_report(a, a.resume(read));
}

// The hedge connected while the SYN had no answer.
step hedge_connected(connect_algorithm& a, ct cancelled = ct::none)
{
    BOOST_REQUIRE((a.action() == step::await_syn_ack));
    connect_event e;
    e.ec = asio::error::operation_aborted; // the group cancelled the SYN's wait
    e.hedge_started = true;
    e.hedge_connected = true;
    e.cancelled = cancelled;
    BOOST_REQUIRE((a.resume(e) == step::read_outcome));
    BOOST_TEST(!a.wait_error(), "the kernel's state decides, not the group's abort");
    connect_event read;
    read.outcome = handshake_outcome::still_unanswered();
    read.cancelled = cancelled;
    BOOST_REQUIRE((a.resume(read) == step::adopt_hedge));
    connect_event adopted;
    adopted.cancelled = cancelled;
    return through_report(a, a.resume(adopted));
}

step wrote(connect_algorithm& a, const boost::system::error_code& ec, std::size_t n, ct cancelled = ct::none)
{
    BOOST_REQUIRE((a.action() == step::write));
    connect_event e;
    e.ec = ec;
    e.bytes = n;
    e.cancelled = cancelled;
    return a.resume(e);
}

// Starts an algorithm and sends the first SYN with `in_syn` bytes.
connect_algorithm after_syn(std::size_t endpoints, std::size_t total, std::size_t in_syn, bool every = true)
{
    auto a = make(endpoints, total, every);
    BOOST_REQUIRE((start(a) == step::prepare_socket));
    BOOST_REQUIRE((prepared(a) == step::send_syn));
    BOOST_REQUIRE((sent(a, syn_with(in_syn)) == step::await_syn_ack));
    return a;
}

} // namespace

BOOST_AUTO_TEST_CASE(empty_sequence_is_not_found)
{
    auto a = make(0, 10, true);
    BOOST_TEST((start(a) == step::complete));
    BOOST_TEST((a.error() == asio::error::not_found));
    BOOST_TEST(a.bytes_written() == 0u);
}

BOOST_AUTO_TEST_CASE(everything_in_the_syn)
{
    auto a = after_syn(1, 100, 100);
    BOOST_TEST((answered(a, established, ct::none) == step::complete));
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
    BOOST_TEST((answered(a, handshake_outcome::still_unanswered(), ct::none) == step::await_syn_ack));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(!a.established());
    BOOST_TEST(a.bytes_in_syn() == 60u, "the SYN's data is still in flight");
    BOOST_TEST((a.event().kind == tfo::detail::path_event_kind::none));
    BOOST_TEST(a.hedge_delay_us() == 0u);
    // The peer refuses later: the next endpoint, from the first byte.
    BOOST_TEST((answered(a, refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(a.endpoint_index() == 1u);

    auto b = after_syn(1, 100, 60);
    BOOST_TEST((answered(b, handshake_outcome::still_unanswered(), ct::none) == step::await_syn_ack));
    BOOST_TEST((answered(b, established, ct::none) == step::write));
    BOOST_TEST(b.bytes_written() == 60u);

    // Cancelled meanwhile: the operation ends, nothing delivered.
    auto c = after_syn(1, 100, 60);
    BOOST_TEST((answered(c, handshake_outcome::still_unanswered(), ct::terminal) == step::complete));
    BOOST_TEST((c.error() == asio::error::operation_aborted));
    BOOST_TEST(c.bytes_written() == 0u);
}

BOOST_AUTO_TEST_CASE(the_rest_is_written_after_the_handshake)
{
    auto a = after_syn(1, 5000, 1400);
    BOOST_TEST((answered(a, established, ct::none) == step::write));
    BOOST_TEST((wrote(a, {}, 2000, ct::none) == step::write));
    BOOST_TEST((wrote(a, {}, 1600, ct::none) == step::complete));
    BOOST_TEST(!a.error());
    BOOST_TEST(a.bytes_written() == 5000u);
}

BOOST_AUTO_TEST_CASE(refused_syn_delivered_nothing)
{
    auto a = after_syn(1, 100, 100);
    BOOST_TEST((answered(a, refused, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_refused));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(!a.established());
}

BOOST_AUTO_TEST_CASE(sequence_moves_on_after_a_refusal_and_starts_again)
{
    auto a = after_syn(3, 100, 100);
    BOOST_TEST((answered(a, refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.endpoint_index() == 1u);
    BOOST_TEST(a.reopen());
    BOOST_TEST(a.bytes_in_syn() == 0u);
    BOOST_TEST((prepared(a) == step::send_syn));
    BOOST_TEST((sent(a, {syn_send_outcome::failed, 0, asio::error::network_unreachable}) == step::prepare_socket));
    BOOST_TEST(a.endpoint_index() == 2u);
    BOOST_TEST((prepared(a) == step::send_syn));
    BOOST_TEST((sent(a, syn_with(60)) == step::await_syn_ack));
    BOOST_TEST((answered(a, established, ct::none) == step::write));
    BOOST_TEST((wrote(a, {}, 40, ct::none) == step::complete));
    BOOST_TEST(a.bytes_written() == 100u);
    BOOST_TEST(a.endpoint_index() == 2u);
}

BOOST_AUTO_TEST_CASE(every_endpoint_refuses)
{
    auto a = after_syn(2, 10, 10);
    BOOST_TEST((answered(a, refused, ct::none) == step::prepare_socket));
    BOOST_TEST((prepared(a) == step::send_syn));
    BOOST_TEST((sent(a, syn_with(10)) == step::await_syn_ack));
    BOOST_TEST((answered(a, {asio::error::timed_out, false}, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::timed_out), "the last endpoint's error");
    BOOST_TEST(a.bytes_written() == 0u);
}

BOOST_AUTO_TEST_CASE(single_endpoint_overload_never_moves_on)
{
    auto a = after_syn(3, 10, 10, false);
    BOOST_TEST((answered(a, refused, ct::none) == step::complete));
    BOOST_TEST(!a.reopen());
}

// Issue 14, item 1: the server read the request out of the SYN, then reset.
BOOST_AUTO_TEST_CASE(reset_after_the_handshake_reports_the_syn_data_as_delivered)
{
    auto a = after_syn(1, 1000, 1000);
    BOOST_TEST((answered(a, reset_after_handshake, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_reset));
    BOOST_TEST(a.bytes_written() == 1000u);
    BOOST_TEST(a.established());
}

BOOST_AUTO_TEST_CASE(reset_after_the_handshake_ends_a_sequence)
{
    auto a = after_syn(2, 1000, 1000);
    BOOST_TEST((answered(a, reset_after_handshake, ct::none) == step::complete),
               "the next endpoint would receive the request a second time");
    BOOST_TEST(a.endpoint_index() == 0u);
    BOOST_TEST(a.bytes_written() == 1000u);
}

BOOST_AUTO_TEST_CASE(reset_while_writing_counts_what_went_out)
{
    auto a = after_syn(2, 5000, 1000);
    BOOST_TEST((answered(a, established, ct::none) == step::write));
    BOOST_TEST((wrote(a, {}, 1500, ct::none) == step::write));
    BOOST_TEST((wrote(a, asio::error::connection_reset, 0, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_reset));
    BOOST_TEST(a.bytes_written() == 2500u);
    BOOST_TEST(a.endpoint_index() == 0u);
}

BOOST_AUTO_TEST_CASE(plain_connect_after_a_fallback)
{
    auto a = make(1, 300, false);
    start(a);
    prepared(a);
    BOOST_TEST((sent(a, {syn_send_outcome::fall_back, 0, {}}) == step::connect));
    BOOST_TEST((answered(a, established, ct::none) == step::write));
    BOOST_TEST((wrote(a, {}, 300, ct::none) == step::complete));
    BOOST_TEST(a.bytes_written() == 300u);
}

BOOST_AUTO_TEST_CASE(a_socket_that_cannot_be_readied_stops_the_sequence)
{
    auto a = make(3, 10, true);
    start(a);
    BOOST_TEST((prepared(a, asio::error::already_connected) == step::complete));
    BOOST_TEST((a.error() == asio::error::already_connected));
}

// Issue 14, item 2: cancellation reports what the kernel did.
BOOST_AUTO_TEST_CASE(cancelled_before_an_answer_delivered_nothing)
{
    for (ct type : {ct::terminal, ct::partial, ct::total})
    {
        auto a = after_syn(2, 1000, 1000);
        BOOST_TEST((answered(a, aborted_in_syn_sent, type) == step::complete));
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
        BOOST_TEST((answered(a, aborted_after_handshake, type) == step::complete));
        BOOST_TEST((a.error() == asio::error::operation_aborted));
        BOOST_TEST(a.bytes_written() == 1000u);
    }
    // socket.cancel(): no slot, the wait itself was aborted.
    auto a = after_syn(1, 1000, 1000);
    BOOST_TEST((answered(a, aborted_after_handshake, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 1000u);
}

BOOST_AUTO_TEST_CASE(cancelled_when_the_handshake_completed_anyway)
{
    auto a = after_syn(1, 1000, 400);
    BOOST_TEST((answered(a, established, ct::terminal) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 400u);
}

BOOST_AUTO_TEST_CASE(cancelled_while_writing_counts_what_went_out)
{
    auto a = after_syn(1, 10000, 1000);
    answered(a, established, ct::none);
    BOOST_TEST((wrote(a, {}, 3000, ct::partial) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 4000u);
    auto b = after_syn(1, 10000, 1000);
    answered(b, established, ct::none);
    BOOST_TEST((wrote(b, asio::error::operation_aborted, 0, ct::terminal) == step::complete));
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
    BOOST_TEST((answered(data, established, ct::none) == step::write));
    BOOST_TEST((data.honoured_cancellation() == with_side_effects));

    auto plain = make(1, 100, false);
    start(plain);
    prepared(plain);
    sent(plain, {syn_send_outcome::fall_back, 0, {}});
    BOOST_TEST((plain.honoured_cancellation() == all));
    BOOST_TEST((answered(plain, established, ct::none) == step::write));
    BOOST_TEST((plain.honoured_cancellation() == all), "nothing written yet");
    wrote(plain, {}, 10, ct::none);
    BOOST_TEST((plain.honoured_cancellation() == with_side_effects));
}

BOOST_AUTO_TEST_CASE(empty_data_completes_at_the_handshake)
{
    auto a = after_syn(1, 0, 0);
    BOOST_TEST((answered(a, established, ct::none) == step::complete));
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

// One endpoint, a hedge advised, and the SYN sent with `in_syn` of `total`
// bytes: the race is about to start.
connect_algorithm hedged_syn_sent(std::size_t total, std::size_t in_syn)
{
    auto a = make(1, total, false);
    start(a);
    prepared(a, {}, hedged(60'000));
    BOOST_REQUIRE((sent(a, syn_with(in_syn)) == step::await_syn_ack));
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
    auto a = make(1, 300, false);
    start(a);
    BOOST_TEST((prepared(a, {}, plain_advice()) == step::connect), "no Fast Open option at all");
    BOOST_TEST(a.hedge_delay_us() == 0u);
    connect_event connected;
    BOOST_TEST((a.resume(connected) == step::read_evidence), "the path memory wants the plain SYN's fate");
    connect_event evidence;
    evidence.evidence = with_evidence(false, syn_failure::none, true).syn;
    BOOST_TEST((a.resume(evidence) == step::report));
    BOOST_TEST((a.resume({}) == step::write));
    BOOST_TEST((a.event().kind == path_event_kind::plain_lost));
    BOOST_TEST((wrote(a, {}, 300, ct::none) == step::complete));
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
        answered(a, c.h, ct::none);
        BOOST_TEST((a.event().kind == c.expected));
        BOOST_TEST(a.event_endpoint_index() == 0u);
    }
    auto fallback = make(1, 10, false);
    start(fallback);
    prepared(fallback);
    sent(fallback, {syn_send_outcome::fall_back, 0, {}});
    BOOST_TEST((fallback.resume({}) == step::write), "no evidence read, no report");
    BOOST_TEST((fallback.event().kind == path_event_kind::none), "Fast Open was not possible: nothing to learn");
}

BOOST_AUTO_TEST_CASE(the_hedge_delay_applies_to_the_fast_open_wait_only)
{
    auto a = make(1, 100, false);
    start(a);
    prepared(a, {}, hedged(60'000));
    BOOST_TEST(a.hedge_delay_us() == 0u, "not before the SYN left");
    sent(a, syn_with(100));
    BOOST_TEST(a.hedge_delay_us() == 60'000u);
    answered(a, established, ct::none);
    BOOST_TEST(a.hedge_delay_us() == 0u);
}

BOOST_AUTO_TEST_CASE(a_cookie_request_is_hedged_only_where_none_passed_before)
{
    auto advice = hedged(60'000);
    advice.hedge_cookie_request = false;
    auto cookie_request = make(1, 100, false);
    start(cookie_request);
    prepared(cookie_request, {}, advice);
    sent(cookie_request, syn_with(0)); // no cookie: the data waits, the SYN asks for one
    BOOST_TEST(cookie_request.hedge_delay_us() == 0u);

    auto data = make(1, 100, false);
    start(data);
    prepared(data, {}, advice);
    sent(data, syn_with(100));
    BOOST_TEST(data.hedge_delay_us() == 60'000u, "data in the SYN: hedged");
}

BOOST_AUTO_TEST_CASE(the_hedge_wins_and_everything_goes_on_its_connection)
{
    auto a = hedged_syn_sent(5000, 1400);
    BOOST_TEST((hedge_connected(a) == step::write));
    BOOST_TEST(a.bytes_written() == 0u, "the silent SYN's data is not counted");
    BOOST_TEST(a.bytes_in_syn() == 0u);
    BOOST_TEST(a.established());
    BOOST_TEST((a.event().kind == path_event_kind::hedge_won));
    BOOST_TEST(a.event().hedge_started);
    BOOST_TEST((wrote(a, {}, 5000, ct::none) == step::complete));
    BOOST_TEST(a.bytes_written() == 5000u);
}

BOOST_AUTO_TEST_CASE(the_syn_wins_over_a_started_hedge)
{
    auto a = hedged_syn_sent(100, 100);
    BOOST_TEST((answered(a, with_evidence(true, syn_failure::none, false), ct::none, true) == step::complete));
    BOOST_TEST((a.event().kind == path_event_kind::fast_open_acked));
    BOOST_TEST(a.event().hedge_started, "counted as a hedge started, not won");
    BOOST_TEST(a.bytes_written() == 100u);
}

BOOST_AUTO_TEST_CASE(cancelled_while_the_hedge_raced)
{
    auto a = hedged_syn_sent(100, 100);
    BOOST_TEST((answered(a, aborted_in_syn_sent, ct::terminal, true) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(a.event().hedge_started);
}

// Item (c): a reset in answer to SYN data, where connections were accepted before.
BOOST_AUTO_TEST_CASE(a_reset_to_syn_data_is_retried_once_plain)
{
    auto a = make(1, 100, false);
    start(a);
    prepared(a, {}, hedged(0, true));
    sent(a, syn_with(100));
    BOOST_TEST((answered(a, refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.retrying_plain());
    BOOST_TEST(a.reopen(), "a refused socket is opened again");
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST((prepared(a, {}, {}) == step::connect), "plain, whatever the advice");
    BOOST_TEST((answered(a, established, ct::none) == step::write));
    BOOST_TEST((a.event().kind == path_event_kind::reset_on_syn_data));
    BOOST_TEST((wrote(a, {}, 100, ct::none) == step::complete));
    BOOST_TEST(!a.error());
    BOOST_TEST(a.bytes_written() == 100u);
}

BOOST_AUTO_TEST_CASE(a_reset_to_syn_data_and_to_the_plain_syn_is_a_refusal)
{
    auto a = make(1, 100, false);
    start(a);
    prepared(a, {}, hedged(0, true));
    sent(a, syn_with(100));
    BOOST_TEST((answered(a, refused, ct::none) == step::prepare_socket));
    prepared(a, {}, {});
    BOOST_TEST((answered(a, refused, ct::none) == step::complete));
    BOOST_TEST((a.error() == asio::error::connection_refused));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST((a.event().kind == path_event_kind::none));
}

BOOST_AUTO_TEST_CASE(no_retry_without_data_or_history)
{
    // A cookie request refused: the server is not there.
    auto a = make(1, 100, false);
    start(a);
    prepared(a, {}, hedged(0, true));
    sent(a, syn_with(0));
    BOOST_TEST((answered(a, refused, ct::none) == step::complete));
    // SYN data refused where nothing was ever accepted: the server's answer.
    auto b = make(1, 100, false);
    start(b);
    prepared(b, {}, hedged(0, false));
    sent(b, syn_with(100));
    BOOST_TEST((answered(b, refused, ct::none) == step::complete));
}

BOOST_AUTO_TEST_CASE(a_sequence_asks_for_advice_per_endpoint)
{
    auto a = make(2, 100, true);
    start(a);
    prepared(a, {}, plain_advice());
    BOOST_TEST((answered(a, refused, ct::none) == step::prepare_socket));
    BOOST_TEST(a.endpoint_index() == 1u);
    BOOST_TEST((prepared(a, {}, {}) == step::send_syn), "the second endpoint's own advice: Fast Open");
    BOOST_TEST((sent(a, syn_with(100)) == step::await_syn_ack));
    answered(a, with_evidence(true, syn_failure::none, false), ct::none);
    BOOST_TEST((a.event().kind == path_event_kind::fast_open_acked));
    BOOST_TEST(a.event_endpoint_index() == 1u);
}

// Both connected: the SYN's own connection carries the data, and wins.
BOOST_AUTO_TEST_CASE(the_syn_wins_when_both_connected)
{
    auto a = hedged_syn_sent(100, 100);
    connect_event e;
    e.ec = asio::error::operation_aborted;
    e.hedge_started = true;
    e.hedge_connected = true;
    BOOST_TEST((a.resume(e) == step::read_outcome));
    connect_event read;
    read.outcome = with_evidence(true, syn_failure::none, false);
    BOOST_TEST((a.resume(read) == step::report));
    BOOST_TEST((a.resume({}) == step::complete));
    BOOST_TEST(a.bytes_written() == 100u);
    BOOST_TEST((a.event().kind == path_event_kind::fast_open_acked));
}

BOOST_AUTO_TEST_CASE(cancelled_when_the_hedge_connected)
{
    auto a = hedged_syn_sent(100, 100);
    BOOST_TEST((hedge_connected(a, ct::terminal) == step::complete));
    BOOST_TEST((a.error() == asio::error::operation_aborted));
    BOOST_TEST(a.bytes_written() == 0u);
    BOOST_TEST(a.established(), "the hedge's connection is the user's now");
    BOOST_TEST((a.event().kind == path_event_kind::hedge_won), "reported all the same");
}

// The synchronous driver cannot race a second socket: it is told so, and no
// advice arms a hedge there.
BOOST_AUTO_TEST_CASE(no_hedge_where_the_driver_cannot_race)
{
    auto a = make(1, 100, false, false);
    start(a);
    connect_event prepared_ok;
    BOOST_TEST((a.resume(prepared_ok) == step::advise));
    BOOST_TEST(!a.hedge_allowed());
    connect_event advice;
    advice.advice = hedged(60'000);
    BOOST_TEST((a.resume(advice) == step::send_syn));
    sent(a, syn_with(100));
    BOOST_TEST(a.hedge_delay_us() == 0u);
}

// What the drivers read off the algorithm for each action.
BOOST_AUTO_TEST_CASE(what_each_action_names)
{
    auto single = make(1, 100, false);
    BOOST_TEST(!single.reopen_other_family(), "the single-endpoint overload keeps the user's socket");
    auto a = make(3, 100);
    BOOST_TEST(a.reopen_other_family(), "a sequence reopens for another family");
    BOOST_TEST(a.attempted());
    start(a);
    BOOST_TEST(!a.reopen(), "the user's socket, for the first endpoint");
    prepared(a);
    BOOST_TEST(a.data_offset() == 0u);
    sent(a, syn_with(40));
    BOOST_TEST((answered(a, established) == step::write));
    BOOST_TEST(a.data_offset() == 40u, "the rest follows what the SYN carried");
    BOOST_TEST((wrote(a, {}, 10) == step::write));
    BOOST_TEST(a.data_offset() == 50u);
    BOOST_TEST(!make(0, 10).attempted());
}

// Every endpoint reports to the path memory about itself.
BOOST_AUTO_TEST_CASE(the_report_names_the_endpoint_it_is_about)
{
    auto a = make(2, 100);
    start(a);
    prepared(a, {}, plain_advice());
    connect_event refused_connect;
    refused_connect.ec = asio::error::connection_refused;
    BOOST_TEST((a.resume(refused_connect) == step::prepare_socket), "nothing learned: no report");
    BOOST_TEST(a.reopen());
    prepared(a);
    sent(a, syn_with(100));
    connect_event woke;
    BOOST_TEST((a.resume(woke) == step::read_outcome));
    connect_event read;
    read.outcome = with_evidence(true, syn_failure::none, false);
    BOOST_TEST((a.resume(read) == step::report));
    BOOST_TEST(a.event_endpoint_index() == 1u);
    BOOST_TEST((a.resume({}) == step::complete));
}

// A destination new to the path memory: its kernel record is read first
// (off the initiating function, by the drivers), once per endpoint.
BOOST_AUTO_TEST_CASE(a_new_destination_has_its_kernel_record_read_first)
{
    path_advice read_first;
    read_first.read_kernel_record = true;
    auto a = make(2, 100);
    start(a);
    BOOST_TEST(a.kernel_read_allowed());
    BOOST_TEST((prepared(a, {}, read_first) == step::read_kernel_record));
    BOOST_TEST((a.resume({}) == step::advise), "then the advice, seeded");
    BOOST_TEST(!a.kernel_read_allowed());
    connect_event again;
    again.advice = read_first;
    BOOST_TEST((a.resume(again) == step::send_syn), "never twice for one endpoint");
    sent(a, syn_with(100));
    BOOST_TEST((answered(a, refused) == step::prepare_socket));
    BOOST_TEST(a.kernel_read_allowed(), "the next endpoint is another destination");

    // Closed or cancelled while the read was posted: nothing is sent.
    for (const bool closed : {true, false})
    {
        auto b = make(1, 100, false);
        start(b);
        BOOST_TEST((prepared(b, {}, read_first) == step::read_kernel_record));
        connect_event e;
        if (closed)
            e.ec = asio::error::operation_aborted;
        else
            e.cancelled = ct::terminal;
        BOOST_TEST((b.resume(e) == step::complete));
        BOOST_TEST((b.error() == asio::error::operation_aborted));
        BOOST_TEST(b.bytes_written() == 0u);
    }
}

// The drivers resume the algorithm through the per-action resumes
// (`socket_prepared`, `advised`, ...), the tests above through events. The
// two must be one transition each: the same scripts, both ways, take the
// same steps, report the same events and end the same.
namespace {

struct scripted_peer
{
    std::size_t endpoints = 1;
    std::size_t total = 100;
    path_advice advice;
    std::vector<syn_send_result> syns;
    std::vector<handshake_outcome> handshakes; // per read_outcome, or per connect (and its evidence)
    std::vector<std::size_t> writes;
};

struct walk
{
    std::vector<step> steps;
    std::vector<tfo::detail::path_event_kind> reports;
    boost::system::error_code error;
    std::size_t written = 0;
    bool established = false;
    std::size_t endpoint = 0;
};

walk drive(const scripted_peer& peer, bool per_action)
{
    auto a = make(peer.endpoints, peer.total);
    walk w;
    std::size_t syn = 0, handshake = 0, write = 0;
    step next = per_action ? a.start() : a.resume({});
    while (next != step::complete && w.steps.size() < 64)
    {
        w.steps.push_back(next);
        connect_event e;
        switch (next)
        {
        case step::prepare_socket:
            next = per_action ? a.socket_prepared({}) : a.resume(e);
            break;
        case step::advise:
            e.advice = peer.advice;
            next = per_action ? a.advised(e.advice) : a.resume(e);
            break;
        case step::send_syn:
            e.syn = peer.syns.at(syn++);
            next = per_action ? a.syn_sent(e.syn) : a.resume(e);
            break;
        case step::await_syn_ack:
            next = per_action ? a.wait_ended({}) : a.resume(e);
            break;
        case step::read_outcome:
            e.outcome = peer.handshakes.at(handshake++);
            next = per_action ? a.outcome_read(e.outcome, ct::none) : a.resume(e);
            break;
        case step::connect:
            e.ec = peer.handshakes.at(handshake).ec;
            next = per_action ? a.connected(e.ec, ct::none) : a.resume(e);
            if (next != step::read_evidence)
                ++handshake;
            break;
        case step::read_evidence:
            e.evidence = peer.handshakes.at(handshake++).syn;
            next = per_action ? a.evidence_read(e.evidence, ct::none) : a.resume(e);
            break;
        case step::report:
            w.reports.push_back(a.event().kind);
            next = per_action ? a.reported() : a.resume(e);
            break;
        case step::write:
            e.bytes = peer.writes.at(write++);
            next = per_action ? a.written({}, e.bytes, ct::none) : a.resume(e);
            break;
        default:
            BOOST_FAIL("a step no script here asks for");
        }
    }
    w.error = a.error();
    w.written = a.bytes_written();
    w.established = a.established();
    w.endpoint = a.endpoint_index();
    return w;
}

} // namespace

BOOST_AUTO_TEST_CASE(per_action_resumes_are_the_event_resume)
{
    using tfo::detail::syn_evidence;
    const syn_evidence acked{true, true, tfo::detail::syn_failure::none, false, 5000};
    const syn_evidence not_acked{true, false, tfo::detail::syn_failure::data_not_acked, false, 5000};
    path_advice plain;
    plain.fast_open = false;
    plain.observe_plain = true;
    path_advice after_reset;
    after_reset.retry_plain_after_reset = true;

    std::vector<scripted_peer> peers;
    peers.push_back({1, 100, {}, {syn_with(100)}, {{{}, true, acked}}, {}});                      // all in the SYN
    peers.push_back({1, 100, {}, {syn_with(40)}, {{{}, true, not_acked}}, {60}});                 // the rest written
    peers.push_back({1, 100, {}, {syn_with(40)}, {{{}, true, acked}}, {30, 30}});                 // in two writes
    peers.push_back({2, 100, {}, {syn_with(100), syn_with(100)}, {refused, {{}, true, acked}}, {}}); // next endpoint
    peers.push_back({1, 100, {}, {syn_with(100), syn_with(100)},                                  // a stale wake-up
                     {handshake_outcome::still_unanswered(), {{}, true, acked}}, {}});
    peers.push_back({1, 100, plain, {}, {{{}, true, acked}}, {100}});                             // plain, observed
    peers.push_back({1, 100, after_reset, {syn_with(100)}, {refused, {{}, true, acked}}, {100}});   // the plain retry
    peers.push_back({2, 100, {}, {syn_with(100)}, {reset_after_handshake}, {}});                  // the sequence ends
    for (std::size_t i = 0; i < peers.size(); ++i)
    {
        BOOST_TEST_CONTEXT("script " << i)
        {
            const walk by_event = drive(peers[i], false);
            const walk by_action = drive(peers[i], true);
            BOOST_TEST(by_event.steps.size() > 4u);
            BOOST_TEST((by_action.steps == by_event.steps));
            BOOST_TEST((by_action.reports == by_event.reports));
            BOOST_TEST(by_action.error == by_event.error);
            BOOST_TEST(by_action.written == by_event.written);
            BOOST_TEST(by_action.established == by_event.established);
            BOOST_TEST(by_action.endpoint == by_event.endpoint);
        }
    }
    // And the scripts say what they should, so that the comparison is of something.
    BOOST_TEST(drive(peers[0], true).written == 100u);
    BOOST_TEST(drive(peers[1], true).written == 100u);
    BOOST_TEST(drive(peers[3], true).endpoint == 1u);
    BOOST_TEST((drive(peers[7], true).error == asio::error::connection_reset));
    BOOST_TEST(drive(peers[7], true).endpoint == 0u);
}

BOOST_AUTO_TEST_SUITE_END() // unit_detail_connect_algorithm
