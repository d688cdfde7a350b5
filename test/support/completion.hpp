//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Boost.Test glue for the tests that drive an io_context by hand: one
// operation's completion as a value, a bounded run until a condition, and
// co_spawn's completion that lets a coroutine's exception fail the test.
//

#ifndef TFO_TEST_SUPPORT_COMPLETION_HPP
#define TFO_TEST_SUPPORT_COMPLETION_HPP

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>

namespace tfo::test {

inline double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// What a `void(error_code, std::size_t)` handler was called with, and when.
struct completion
{
    bool done = false;
    boost::system::error_code ec;
    std::size_t n = 0;
    double seconds = 0;
};

/// A handler that records into `c`; `seconds` counts from `start`.
inline auto record(completion& c, std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now())
{
    return [&c, start](boost::system::error_code ec, std::size_t n) {
        c.done = true;
        c.ec = ec;
        c.n = n;
        c.seconds = seconds_since(start);
    };
}

/// Runs `io` until `done` or a bound far beyond any expected wait; fails the
/// test on the bound rather than hanging.
inline void run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::seconds bound = std::chrono::seconds(20))
{
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline)
    {
        io.run_for(std::chrono::milliseconds(10));
        if (io.stopped())
            io.restart();
    }
    BOOST_REQUIRE_MESSAGE(done(), "did not finish within " << bound.count() << " s");
}

/// The completion of `co_spawn` in tests: an exception in the coroutine
/// comes out of `io_context::run`, and so fails the test.
inline void rethrow(std::exception_ptr e)
{
    if (e)
        std::rethrow_exception(e);
}

} // namespace tfo::test

#endif
