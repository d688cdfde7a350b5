//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_KEY_SCHEDULE_HPP
#define TFO_IMPL_KEY_SCHEDULE_HPP

#include <tfo/detail/completion.hpp>
#include <tfo/detail/platform.hpp>
#include <tfo/error.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/wait_traits.hpp>

#include <cstdint>
#include <memory>

namespace tfo::detail {

using platform::listener_identity;
using platform::socket_identity;

/// Sets `keys` on the socket `descriptor` (what `acceptor.set_option` does,
/// without the acceptor object).
void install_keys(platform::native_socket descriptor, const fast_open_key& keys, boost::system::error_code& ec) noexcept;

// The rotation is one asynchronous operation built from two: a timer wait
// until the next period boundary, and `acceptor.async_wait(wait_error)`,
// which never completes while the socket listens but is aborted at once by
// close() or the acceptor's destructor. The operation keeps no reference to
// the acceptor that it uses blindly: before each use it checks that the
// descriptor still names the socket it started with, and at a period
// boundary it sets the keys through the descriptor, not the object. Once the
// acceptor is closed or destroyed its descriptor is closed or names another
// file, so the operation then ends without touching it (see doc/design.md).
template <typename Acceptor, typename Clock, typename WaitTraits>
class rotate_keys_op
{
public:
    using timer_type = boost::asio::basic_waitable_timer<Clock, WaitTraits, typename Acceptor::executor_type>;

    rotate_keys_op(Acceptor& acceptor, const key_schedule& schedule)
        : acceptor_(&acceptor), schedule_(schedule),
          // Shared with the handler of the acceptor's wait, which may run after
          // the operation completed; held by pointer because `self` moves.
          shared_(std::make_shared<shared_state>(acceptor.get_executor()))
    {
    }

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec = {})
    {
        if (!started_)
        {
            started_ = true;
            self.reset_cancellation_state(boost::asio::enable_partial_cancellation());
            ec = start(self);
            if (ec)
            {
                shared_->finished = true;
                const auto executor = acceptor_->get_executor();
                return detail::complete(self, false, executor, ec); // never inside the initiating function
            }
            return wait_for_next_period(self);
        }
        if (shared_->listener_gone)
            return finish(self, shared_->listener_error);
        if (self.cancelled() != boost::asio::cancellation_type::none)
            return stop(self, boost::asio::error::operation_aborted);
        if (ec)
            return stop(self, ec);

        // A period boundary. A closed or destroyed acceptor's descriptor no
        // longer names our socket; its wait's abort is on the way.
        if (!still_ours())
            return finish(self, boost::asio::error::operation_aborted);
        install_keys(descriptor_, schedule_.keys_at(schedule_time(Clock::now())), ec);
        if (ec)
            return stop(self, ec);
        wait_for_next_period(self);
    }

private:
    struct shared_state
    {
        explicit shared_state(const typename Acceptor::executor_type& executor) : timer(executor) {}

        timer_type timer;
        boost::asio::cancellation_signal stop_wait;
        bool wait_pending = false;
        bool listener_gone = false;
        boost::system::error_code listener_error;
        bool finished = false;
    };

    static key_schedule::clock::time_point schedule_time(typename Clock::time_point t)
    {
        using duration = key_schedule::clock::duration;
        return key_schedule::clock::time_point(std::chrono::duration_cast<duration>(t.time_since_epoch()));
    }

    static typename Clock::time_point clock_time(key_schedule::clock::time_point t)
    {
        using duration = typename Clock::duration;
        return typename Clock::time_point(std::chrono::duration_cast<duration>(t.time_since_epoch()));
    }

    template <typename Self>
    boost::system::error_code start(Self& self)
    {
        boost::system::error_code ec;
        descriptor_ = acceptor_->native_handle();
        identity_ = listener_identity(descriptor_, ec);
        if (!ec)
            acceptor_->set_option(schedule_.keys_at(schedule_time(Clock::now())), ec);
        if (ec)
            return ec;

        // The wait's handler runs where the operation runs, so that the two
        // never run at once on a multi-threaded io_context with a strand.
        auto executor = boost::asio::get_associated_executor(self, acceptor_->get_executor());
        shared_->wait_pending = true;
        acceptor_->async_wait(
            Acceptor::wait_error,
            boost::asio::bind_cancellation_slot(
                shared_->stop_wait.slot(),
                boost::asio::bind_executor(executor, [shared = shared_](boost::system::error_code wait_ec) {
                    shared->wait_pending = false;
                    if (shared->finished)
                        return;
                    // Aborted: closed or destroyed. Completed: the socket
                    // reports an error or hang-up, so it no longer listens.
                    shared->listener_gone = true;
                    shared->listener_error = wait_ec == boost::asio::error::operation_aborted
                                                 ? wait_ec
                                                 : boost::system::error_code(boost::asio::error::invalid_argument);
                    shared->timer.cancel();
                })));
        return {};
    }

    template <typename Self>
    void wait_for_next_period(Self& self)
    {
        const auto now = schedule_time(Clock::now());
        shared_->timer.expires_at(clock_time(schedule_.next_rotation(now)));
        shared_->timer.async_wait(std::move(self));
    }

    bool still_ours() const noexcept
    {
        boost::system::error_code ec;
        return listener_identity(descriptor_, ec) == identity_ && !ec;
    }

    // Ends the operation, first withdrawing the acceptor's wait when the
    // acceptor is still there to withdraw it from (the cancellation reaches
    // into the acceptor's reactor state).
    template <typename Self>
    void stop(Self& self, boost::system::error_code ec)
    {
        if (shared_->wait_pending && still_ours())
            shared_->stop_wait.emit(boost::asio::cancellation_type::terminal);
        finish(self, ec);
    }

    template <typename Self>
    void finish(Self& self, boost::system::error_code ec)
    {
        shared_->finished = true;
        self.complete(ec);
    }

    Acceptor* acceptor_;
    key_schedule schedule_;
    std::shared_ptr<shared_state> shared_;
    platform::native_socket descriptor_ = -1;
    socket_identity identity_;
    bool started_ = false;
};

template <typename Clock, typename WaitTraits, typename Executor, typename CompletionToken>
auto async_rotate_keys_on(boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>& acceptor,
                          const key_schedule& schedule, CompletionToken&& token)
{
    using acceptor_type = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
    return boost::asio::async_compose<CompletionToken, void(boost::system::error_code)>(
        rotate_keys_op<acceptor_type, Clock, WaitTraits>(acceptor, schedule), token, acceptor.get_executor());
}

} // namespace tfo::detail

namespace tfo {

template <typename Executor, typename CompletionToken>
auto async_rotate_keys(boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>& acceptor,
                       const key_schedule& schedule, CompletionToken&& token)
{
    return detail::async_rotate_keys_on<key_schedule::clock, boost::asio::wait_traits<key_schedule::clock>>(
        acceptor, schedule, std::forward<CompletionToken>(token));
}

} // namespace tfo

#endif
