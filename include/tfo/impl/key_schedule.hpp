//
// tfo: TCP Fast Open for Boost.Asio
//

#ifndef TFO_IMPL_KEY_SCHEDULE_HPP
#define TFO_IMPL_KEY_SCHEDULE_HPP

#include <tfo/error.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_timer.hpp>

#include <memory>

namespace tfo::detail {

template <typename Acceptor>
class rotate_keys_op
{
public:
    using timer_type = boost::asio::basic_waitable_timer<std::chrono::system_clock,
                                                         boost::asio::wait_traits<std::chrono::system_clock>,
                                                         typename Acceptor::executor_type>;

    rotate_keys_op(Acceptor& acceptor, const key_schedule& schedule)
        : acceptor_(acceptor), schedule_(schedule),
          // Held by pointer: the operation moves into the timer's own wait.
          timer_(std::make_unique<timer_type>(acceptor.get_executor()))
    {
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec = {})
    {
        if (!ec && self.cancelled() != boost::asio::cancellation_type::none)
            ec = boost::asio::error::operation_aborted;
        if (!ec && schedule_.period().count() <= 0)
            ec = error::invalid_period; // the schedule's construction failed
        if (!ec)
        {
            const auto now = key_schedule::clock::now();
            acceptor_.set_option(schedule_.keys_at(now), ec);
            if (!ec)
            {
                timer_->expires_at(schedule_.next_rotation(now));
                timer_->async_wait(std::move(self));
                started_ = true;
                return;
            }
        }
        if (started_)
            return self.complete(ec);
        // Never complete inside the initiating function.
        started_ = true;
        boost::asio::post(acceptor_.get_executor(), boost::asio::append(std::move(self), ec));
    }

private:
    Acceptor& acceptor_;
    key_schedule schedule_;
    std::unique_ptr<timer_type> timer_;
    bool started_ = false;
};

} // namespace tfo::detail

namespace tfo {

template <typename Executor, typename CompletionToken>
auto async_rotate_keys(boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>& acceptor,
                       const key_schedule& schedule, CompletionToken&& token)
{
    using acceptor_type = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code)>(
        detail::rotate_keys_op<acceptor_type>(acceptor, schedule), token, acceptor);
}

} // namespace tfo

#endif
