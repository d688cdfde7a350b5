//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The scaffolding every operation shares, written once: completing a
// composed operation now or through a post (Beast's async_base::complete),
// and the throwing form of an `error_code` overload.
//

#ifndef TFO_DETAIL_COMPLETION_HPP
#define TFO_DETAIL_COMPLETION_HPP

#include <boost/asio/associator.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <tuple>
#include <type_traits>
#include <utility>

namespace tfo::detail {

// A composed operation's `self` with the arguments it completes with, as a
// nullary handler: posted, it completes the operation on the executor the
// handler is associated with, and keeps the handler's allocator.
template <typename Self, typename... Args>
struct posted_completion
{
    Self self;
    std::tuple<Args...> args;

    void operator()()
    {
        std::apply([this](Args&... a) { self.complete(std::move(a)...); }, args);
    }
};

// Completes `self` with `args`: at once when the operation is a
// continuation (an asynchronous step already ran, so the caller is a
// completion handler), through a post to `io_executor` otherwise, so that a
// handler never runs inside the initiating function.
template <typename Self, typename Executor, typename... Args>
void complete(Self& self, bool is_continuation, const Executor& io_executor, Args&&... args)
{
    if (is_continuation)
        return self.complete(std::forward<Args>(args)...);
    boost::asio::post(io_executor, posted_completion<Self, std::decay_t<Args>...>{
                                       std::move(self), {std::forward<Args>(args)...}});
}

// The throwing overload of a function with an `error_code&` overload:
// `call(ec)` runs the latter, and an error becomes a `system_error` naming
// `what`.
template <typename Call>
auto call_or_throw(const char* what, Call&& call)
{
    boost::system::error_code ec;
    if constexpr (std::is_void_v<decltype(call(ec))>)
    {
        call(ec);
        if (ec)
            boost::throw_exception(boost::system::system_error(ec, what));
    }
    else
    {
        auto result = call(ec);
        if (ec)
            boost::throw_exception(boost::system::system_error(ec, what));
        return result;
    }
}

} // namespace tfo::detail

namespace boost::asio {

// The posted completion is associated with what the operation is associated
// with (executor, allocator, cancellation slot), as asio::append's handler is.
template <template <typename, typename> class Associator, typename Self, typename... Args,
          typename DefaultCandidate>
struct associator<Associator, tfo::detail::posted_completion<Self, Args...>, DefaultCandidate>
    : Associator<Self, DefaultCandidate>
{
    static typename Associator<Self, DefaultCandidate>::type
    get(const tfo::detail::posted_completion<Self, Args...>& h) noexcept
    {
        return Associator<Self, DefaultCandidate>::get(h.self);
    }

    static auto get(const tfo::detail::posted_completion<Self, Args...>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Self, DefaultCandidate>::get(h.self, c))
    {
        return Associator<Self, DefaultCandidate>::get(h.self, c);
    }
};

} // namespace boost::asio

#endif
