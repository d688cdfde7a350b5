//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A composed operation on one I/O object, run as Asio's own operations are
// (asio::async_write's write_op): the operation is the completion handler of
// each of its steps, and its associated executor is the user handler's,
// defaulting to the I/O object's.
//
// asio::async_compose does the same with one more thing: an outstanding-work
// guard on the I/O object's executor for the whole operation. Its type is the
// executor "tracked", which is not the I/O object's own executor type, so
// every step's completion goes through the type-erased executor (a prefer, a
// copy, a function object allocated and run) where Asio's own operations are
// called directly. The guard is not needed here: every step of these
// operations is an asynchronous operation on the I/O object (or a post to its
// executor), which keeps the context's work count up, and each step's
// handler_work tracks the user handler's executor where it is another one.
//
// The `self` protocol is async_compose's: `self(args...)`, `self.complete(args...)`,
// `self.cancelled()`, `self.reset_cancellation_state(filter)`, so an
// implementation can be run by either.
//

#ifndef TFO_DETAIL_COMPOSE_HPP
#define TFO_DETAIL_COMPOSE_HPP

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_state.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace tfo::detail {

template <typename Impl, typename Handler, typename IoObject>
class io_op
{
public:
    using executor_type = boost::asio::associated_executor_t<Handler, typename IoObject::executor_type>;
    using allocator_type = boost::asio::associated_allocator_t<Handler, std::allocator<void>>;
    using cancellation_slot_type = boost::asio::cancellation_slot;

    // The implementation is made in place, from the I/O object and `args`:
    // an operation is moved at every step, and the first move is spared.
    template <typename H, typename... Args>
    io_op(H&& handler, IoObject& io, Args&&... args)
        : impl_(io, std::forward<Args>(args)...), handler_(std::forward<H>(handler)), io_(&io),
          state_(boost::asio::get_associated_cancellation_slot(handler_))
    {
    }

    executor_type get_executor() const noexcept
    {
        return boost::asio::get_associated_executor(handler_, io_->get_executor());
    }

    allocator_type get_allocator() const noexcept
    {
        return boost::asio::get_associated_allocator(handler_, std::allocator<void>());
    }

    // The slot the steps see: the state's, which filters what reaches them.
    cancellation_slot_type get_cancellation_slot() const noexcept { return state_.slot(); }

    template <typename... T>
    void operator()(T&&... args)
    {
        if (invocations_ < ~0u)
            ++invocations_;
        state_.slot().clear(); // the step that called is over
        impl_(*this, std::forward<T>(args)...);
    }

    template <typename... T>
    void complete(T&&... args)
    {
        std::move(handler_)(std::forward<T>(args)...);
    }

    boost::asio::cancellation_type_t cancelled() const noexcept { return state_.cancelled(); }

    template <typename Filter>
    void reset_cancellation_state(Filter filter)
    {
        state_ = boost::asio::cancellation_state(boost::asio::get_associated_cancellation_slot(handler_), filter,
                                                 filter);
    }

    // Asio's continuation hint: every call after the first is one.
    friend bool asio_handler_is_continuation(io_op* op) noexcept { return op->invocations_ > 1; }

    // The user's handler, for the executor associator below.
    const Handler& handler() const noexcept { return handler_; }

private:
    Impl impl_;
    Handler handler_;
    IoObject* io_;
    boost::asio::cancellation_state state_;
    unsigned invocations_ = 0;
};

// The initiation: makes the operation around the handler and starts it.
template <typename Impl, typename IoObject>
class initiate_io_op
{
public:
    using executor_type = typename IoObject::executor_type;

    explicit initiate_io_op(IoObject& io) : io_(&io) {}

    executor_type get_executor() const noexcept { return io_->get_executor(); }

    template <typename Handler, typename... Args>
    void operator()(Handler&& handler, Args&&... args) const
    {
        io_op<Impl, std::decay_t<Handler>, IoObject>(std::forward<Handler>(handler), *io_,
                                                      std::forward<Args>(args)...)();
    }

private:
    IoObject* io_;
};

/// Runs an `Impl` (async_compose's protocol), made from `io` and `args`, on
/// `io` for `token`, as Asio runs its own operations: see above. `args` are
/// kept by value where the token defers the operation.
template <typename Signature, typename Impl, typename IoObject, typename CompletionToken, typename... Args>
auto async_io_op(IoObject& io, CompletionToken&& token, Args&&... args)
{
    return boost::asio::async_initiate<CompletionToken, Signature>(initiate_io_op<Impl, IoObject>(io), token,
                                                                   std::forward<Args>(args)...);
}

} // namespace tfo::detail

namespace boost::asio {

// Where Asio asks with the I/O object's executor as the candidate (every step
// of the operation, and the post), the operation answers as Asio's own
// composed operations do: the user's handler's executor, or the candidate
// itself, by reference. Without this, every step would copy the type-erased
// executor twice (get_executor() by value, from the I/O object's, by value)
// to find the same one.
template <typename Impl, typename Handler, typename IoObject>
struct associated_executor<tfo::detail::io_op<Impl, Handler, IoObject>, typename IoObject::executor_type>
{
    using op_type = tfo::detail::io_op<Impl, Handler, IoObject>;
    using candidate_type = typename IoObject::executor_type;
    using type = associated_executor_t<Handler, candidate_type>;

    static type get(const op_type& op) noexcept { return op.get_executor(); }

    static decltype(auto) get(const op_type& op, const candidate_type& candidate) noexcept
    {
        return associated_executor<Handler, candidate_type>::get(op.handler(), candidate);
    }
};

} // namespace boost::asio

#endif
