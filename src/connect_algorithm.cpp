//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/detail/connect_algorithm.hpp>
#include <tfo/detail/path_record.hpp>

#include <boost/asio/error.hpp>
#include <boost/assert.hpp>

namespace tfo::detail {

using boost::asio::cancellation_type;

connect_algorithm::connect_algorithm(std::size_t endpoint_count, std::size_t total_bytes, options o) noexcept
    : count_(endpoint_count), total_(total_bytes), options_(o)
{
}

connect_action connect_algorithm::resume(const connect_event& e) noexcept
{
    if (!started_)
        return start();
    switch (action_)
    {
    case connect_action::prepare_socket:
        return socket_prepared(e.ec);
    case connect_action::advise:
        return advised(e.advice);
    case connect_action::read_kernel_record:
        return kernel_record_read(e);
    case connect_action::send_syn:
        return syn_sent(e.syn);
    case connect_action::await_syn_ack:
        return wait_ended(e.ec, e.hedge_started, e.hedge_connected);
    case connect_action::read_outcome:
        return outcome_read(e.outcome, e.cancelled);
    case connect_action::adopt_hedge:
        return hedge_won(e.cancelled);
    case connect_action::connect:
        return connected(e.ec, e.cancelled);
    case connect_action::read_evidence:
        return evidence_read(e.evidence, e.cancelled);
    case connect_action::report:
        return reported();
    case connect_action::write:
        return written(e.ec, e.bytes, e.cancelled);
    case connect_action::complete:
        break;
    }
    return action_;
}

connect_action connect_algorithm::start() noexcept
{
    BOOST_ASSERT(!started_);
    started_ = true;
    if (count_ == 0)
        return finish(boost::asio::error::not_found);
    return action_ = connect_action::prepare_socket;
}

connect_action connect_algorithm::socket_prepared(const boost::system::error_code& ec) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::prepare_socket);
    // A socket that cannot be readied (connected, out of descriptors) fails
    // the same way for every endpoint: stop.
    if (ec)
        return finish(ec);
    hedge_started_ = false;
    hedge_connected_ = false;
    if (mode_ == mode::retry_plain)
        return action_ = connect_action::connect; // whatever the path memory would advise
    return action_ = connect_action::advise;
}

connect_action connect_algorithm::advised(const path_advice& advice) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::advise);
    if (advice.read_kernel_record && !kernel_read_)
        return action_ = connect_action::read_kernel_record;
    advice_ = advice;
    if (!advice.fast_open)
    {
        // The path memory has Fast Open off here: a plain connect, with no
        // Fast Open option in the SYN.
        mode_ = mode::plain;
        in_syn_ = 0;
        return action_ = connect_action::connect;
    }
    mode_ = mode::fast_open;
    return action_ = connect_action::send_syn;
}

connect_action connect_algorithm::kernel_record_read(const connect_event& e) noexcept
{
    // The read may have run after a post: a close or a cancellation that
    // came meanwhile ends the operation before anything is sent.
    kernel_read_ = true;
    if (e.ec || e.cancelled != cancellation_type::none)
        return finish(boost::asio::error::operation_aborted);
    return action_ = connect_action::advise;
}

connect_action connect_algorithm::syn_sent(const syn_send_result& r) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::send_syn);
    switch (r.outcome)
    {
    case syn_send_outcome::syn_sent:
        in_syn_ = r.bytes;
        return action_ = connect_action::await_syn_ack;
    case syn_send_outcome::fall_back:
        in_syn_ = 0;
        mode_ = mode::fall_back;
        advice_ = {};
        return action_ = connect_action::connect;
    case syn_send_outcome::failed:
        break;
    }
    return next_endpoint(r.ec);
}

connect_action connect_algorithm::wait_ended(const boost::system::error_code& ec, bool hedge_started,
                                             bool hedge_connected) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::await_syn_ack);
    hedge_started_ = hedge_started_ || hedge_started;
    hedge_connected_ = hedge_started && hedge_connected;
    // A hedge that connected ended the SYN's wait by cancelling it: the
    // kernel's state, not that abort, says what became of the SYN.
    error_ = hedge_connected_ ? boost::system::error_code() : ec;
    return action_ = connect_action::read_outcome;
}

connect_action connect_algorithm::outcome_read(const handshake_outcome& h, cancellation_type cancelled) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::read_outcome);
    // The hedge connected and the SYN's own connection is not established:
    // the user's socket takes the hedge's connection. When both were, the
    // one that carries the data wins.
    if (hedge_connected_ && !h.established)
        return action_ = connect_action::adopt_hedge;
    return handshake_done(h, cancelled);
}

connect_action connect_algorithm::evidence_read(const syn_evidence& s, cancellation_type cancelled) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::read_evidence);
    // Asked for only after a connect that succeeded.
    return handshake_done(handshake_outcome({}, true, s), cancelled);
}

connect_action connect_algorithm::connected(const boost::system::error_code& ec, cancellation_type cancelled) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::connect);
    // The path memory wants to know whether plain SYNs are lost as well.
    if (!ec && mode_ == mode::plain && advice_.observe_plain)
        return action_ = connect_action::read_evidence;
    return handshake_done(outcome_of_connect_error(ec), cancelled);
}

void connect_algorithm::learn(const path_event& e) noexcept
{
    event_ = e;
    event_.hedge_started = hedge_started_;
    event_.record = advice_.record;
    event_index_ = index_;
}

connect_action connect_algorithm::report_then(connect_action next) noexcept
{
    if (event_.kind == path_event_kind::none && event_.rtt_us == 0 && !event_.hedge_started)
        return next;
    after_report_ = next;
    return action_ = connect_action::report;
}

connect_action connect_algorithm::reported() noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::report);
    action_ = after_report_;
    return action_;
}

connect_action connect_algorithm::handshake_done(const handshake_outcome& h, cancellation_type cancelled) noexcept
{
    event_ = {};
    if (h.unanswered)
    {
        // A stale wake-up: the SYN is still out, nothing was learned or
        // delivered. Wait again, unless the operation was asked to stop.
        if (cancelled != cancellation_type::none)
        {
            in_syn_ = 0;
            return finish(boost::asio::error::operation_aborted);
        }
        return action_ = connect_action::await_syn_ack;
    }
    switch (mode_)
    {
    case mode::fast_open:
        if (h.established)
            learn(classify(h.syn, true));
        else if (hedge_started_)
            learn({});
        break;
    case mode::plain:
        if (h.established)
            learn(classify(h.syn, false));
        break;
    case mode::retry_plain:
        if (h.established)
        {
            // Refused with data in the SYN, accepted without: what answered
            // the first SYN was not the server's listener.
            path_event e = classify(h.syn, false);
            e.kind = path_event_kind::reset_on_syn_data;
            learn(e);
        }
        break;
    case mode::fall_back:
        break;
    }
    return report_then(after_handshake(h, cancelled));
}

connect_action connect_algorithm::after_handshake(const handshake_outcome& h, cancellation_type cancelled) noexcept
{
    if (!h.established)
    {
        const bool refused_syn_data = mode_ == mode::fast_open && in_syn_ > 0 &&
                                      h.ec == boost::asio::error::connection_refused;
        // No connection: data that left in the SYN was not delivered, and
        // the next attempt starts again from the first byte.
        in_syn_ = 0;
        if (cancelled != cancellation_type::none || h.ec == boost::asio::error::operation_aborted)
            return finish(boost::asio::error::operation_aborted);
        if (refused_syn_data && advice_.retry_plain_after_reset && !retried_)
        {
            // A reset in answer to SYN data, where connections were accepted
            // before: a middlebox that resets what it does not understand, or
            // a server gone. One plain connect to the same endpoint tells.
            retried_ = true;
            mode_ = mode::retry_plain;
            return action_ = connect_action::prepare_socket;
        }
        return next_endpoint(h.ec);
    }
    // The peer took the SYN: its data went out on this connection, and no
    // other endpoint will be tried, whatever happens next.
    established_ = true;
    written_ = in_syn_;
    if (cancelled != cancellation_type::none)
        return finish(boost::asio::error::operation_aborted);
    if (h.ec)
        return finish(h.ec);
    return write_or_finish();
}

connect_action connect_algorithm::hedge_won(cancellation_type cancelled) noexcept
{
    path_event e;
    e.kind = path_event_kind::hedge_won;
    hedge_started_ = true;
    learn(e);
    // The fast-open SYN's data went nowhere the operation can vouch for:
    // everything is written on the hedge's connection, from the first byte.
    in_syn_ = 0;
    established_ = true;
    written_ = 0;
    if (cancelled != cancellation_type::none)
        return report_then(finish(boost::asio::error::operation_aborted));
    return report_then(write_or_finish());
}

connect_action connect_algorithm::written(const boost::system::error_code& ec, std::size_t n,
                                          cancellation_type cancelled) noexcept
{
    BOOST_ASSERT(started_ && action_ == connect_action::write);
    event_ = {};
    written_ += n;
    if (ec)
        return finish(ec);
    if (cancelled != cancellation_type::none)
        return finish(boost::asio::error::operation_aborted);
    return write_or_finish();
}

connect_action connect_algorithm::next_endpoint(const boost::system::error_code& ec) noexcept
{
    if (!options_.every_endpoint || index_ + 1 >= count_)
        return finish(ec);
    ++index_;
    retried_ = false;
    kernel_read_ = false;
    mode_ = mode::fast_open;
    return action_ = connect_action::prepare_socket;
}

connect_action connect_algorithm::write_or_finish() noexcept
{
    if (written_ >= total_)
        return finish({});
    return action_ = connect_action::write;
}

connect_action connect_algorithm::finish(const boost::system::error_code& ec) noexcept
{
    error_ = ec;
    return action_ = connect_action::complete;
}

} // namespace tfo::detail
