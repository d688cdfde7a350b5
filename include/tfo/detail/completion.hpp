//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Completing a composed operation now or through a post (Beast's
// async_base::complete), written once for every operation.
//

#ifndef TFO_DETAIL_COMPLETION_HPP
#define TFO_DETAIL_COMPLETION_HPP

#include <boost/asio/associator.hpp>
#include <boost/asio/post.hpp>

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
// completion handler), through a post otherwise, so that a handler never
// runs inside the initiating function. `io` is the I/O object whose executor
// the post goes to, or that executor; it is asked only for a post.
template <typename Self, typename IoObjectOrExecutor, typename... Args>
void complete(Self& self, bool is_continuation, IoObjectOrExecutor& io, Args&&... args)
{
    if (is_continuation)
        return self.complete(std::forward<Args>(args)...);
    posted_completion<Self, std::decay_t<Args>...> completion{std::move(self), {std::forward<Args>(args)...}};
    if constexpr (requires { io.get_executor(); })
        boost::asio::post(io.get_executor(), std::move(completion));
    else
        boost::asio::post(io, std::move(completion));
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
