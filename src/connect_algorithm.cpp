//
// tfo: TCP Fast Open for Boost.Asio
//

#include <tfo/detail/connect_algorithm.hpp>

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

connect_algorithm::step connect_algorithm::socket_prepared(const boost::system::error_code& ec) noexcept
{
    // A socket that cannot be readied (connected, out of descriptors) fails
    // the same way for every endpoint: stop.
    if (ec)
        return finish(ec);
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
        return step_ = step::connect;
    case syn_send_outcome::failed:
        break;
    }
    return next_endpoint(r.ec);
}

connect_algorithm::step connect_algorithm::handshake_done(const handshake_outcome& h,
                                                          cancellation_type cancelled) noexcept
{
    if (!h.established)
    {
        // No connection: data that left in the SYN was not delivered, and
        // the next attempt starts again from the first byte.
        in_syn_ = 0;
        if (cancelled != cancellation_type::none || h.ec == boost::asio::error::operation_aborted)
            return finish(boost::asio::error::operation_aborted);
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

connect_algorithm::step connect_algorithm::written(const boost::system::error_code& ec, std::size_t n,
                                                   cancellation_type cancelled) noexcept
{
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
