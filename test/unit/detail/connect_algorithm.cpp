//
// tfo: TCP Fast Open for Boost.Asio
//
// The decisions of a fast-open connect, without a network: every path of the
// algorithm that both the asynchronous and the synchronous forms drive, and
// above all what each one reports as delivered.

#include <tfo/detail/connect_algorithm.hpp>

#define BOOST_TEST_MODULE connect_algorithm
#include <boost/test/unit_test.hpp>

#include <boost/asio/error.hpp>

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
