//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/detail/connect_algorithm.hpp>
#include <tfo/detail/path_record.hpp>

#include <boost/asio/error.hpp>

namespace tfo::detail {

using boost::asio::cancellation_type;

connect_algorithm::connect_algorithm(std::size_t endpoint_count, std::size_t total_bytes,
                                     bool try_every_endpoint) noexcept
    : count_(endpoint_count), total_(total_bytes), every_endpoint_(try_every_endpoint)
{
}

connect_algorithm::step connect_algorithm::start() noexcept
{
    if (count_ == 0)
        return finish(boost::asio::error::not_found);
    return step_ = step::prepare_socket;
}

connect_algorithm::step connect_algorithm::socket_prepared(const boost::system::error_code& ec,
                                                           const path_advice& advice) noexcept
{
    // A socket that cannot be readied (connected, out of descriptors) fails
    // the same way for every endpoint: stop.
    if (ec)
        return finish(ec);
    hedge_started_ = false;
    if (mode_ == mode::retry_plain)
        return step_ = step::connect;
    advice_ = advice;
    if (!advice.fast_open)
    {
        // The path memory has Fast Open off here: a plain connect, with no
        // Fast Open option in the SYN.
        mode_ = mode::plain;
        in_syn_ = 0;
        return step_ = step::connect;
    }
    mode_ = mode::fast_open;
    return step_ = step::send_syn;
}

connect_algorithm::step connect_algorithm::syn_sent(const syn_send_result& r) noexcept
{
    switch (r.outcome)
    {
    case syn_send_outcome::syn_sent:
        in_syn_ = r.bytes;
        return step_ = step::await_syn_ack;
    case syn_send_outcome::fall_back:
        in_syn_ = 0;
        mode_ = mode::fall_back;
        return step_ = step::connect;
    case syn_send_outcome::failed:
        break;
    }
    return next_endpoint(r.ec);
}

void connect_algorithm::learn(const path_event& e) noexcept
{
    event_ = e;
    event_.hedge_started = hedge_started_;
    event_index_ = index_;
}

connect_algorithm::step connect_algorithm::handshake_done(const handshake_outcome& h,
                                                          cancellation_type cancelled) noexcept
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
        return step_ = step::await_syn_ack;
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
            return step_ = step::prepare_socket;
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

connect_algorithm::step connect_algorithm::hedge_won(const handshake_outcome& h, cancellation_type cancelled) noexcept
{
    path_event e;
    e.kind = path_event_kind::hedge_won;
    hedge_started_ = true;
    learn(e);
    in_syn_ = 0;
    established_ = true;
    written_ = 0;
    if (cancelled != cancellation_type::none)
        return finish(boost::asio::error::operation_aborted);
    if (h.ec)
        return finish(h.ec);
    return write_or_finish();
}

connect_algorithm::step connect_algorithm::written(const boost::system::error_code& ec, std::size_t n,
                                                   cancellation_type cancelled) noexcept
{
    event_ = {};
    written_ += n;
    if (ec)
        return finish(ec);
    if (cancelled != cancellation_type::none)
        return finish(boost::asio::error::operation_aborted);
    return write_or_finish();
}

cancellation_type connect_algorithm::honoured_cancellation() const noexcept
{
    const bool data_left_the_host = written_ > 0 || (step_ == step::await_syn_ack && in_syn_ > 0);
    if (data_left_the_host)
        return cancellation_type::terminal | cancellation_type::partial;
    return cancellation_type::terminal | cancellation_type::partial | cancellation_type::total;
}

connect_algorithm::step connect_algorithm::next_endpoint(const boost::system::error_code& ec) noexcept
{
    if (!every_endpoint_ || index_ + 1 >= count_)
        return finish(ec);
    ++index_;
    retried_ = false;
    mode_ = mode::fast_open;
    return step_ = step::prepare_socket;
}

connect_algorithm::step connect_algorithm::write_or_finish() noexcept
{
    if (written_ >= total_)
        return finish({});
    return step_ = step::write;
}

connect_algorithm::step connect_algorithm::finish(const boost::system::error_code& ec) noexcept
{
    result_ = ec;
    return step_ = step::complete;
}

} // namespace tfo::detail
