//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The path memory's private members, for the connect drivers (advice and
// reports, whose types are detail types) and for the tests (the clock):
// kept out of the public interface.
//

#ifndef TFO_DETAIL_PATH_MEMORY_ACCESS_HPP
#define TFO_DETAIL_PATH_MEMORY_ACCESS_HPP

#include <tfo/detail/connect_steps.hpp>
#include <tfo/path_memory.hpp>

#include <functional>
#include <utility>

namespace tfo::detail {

struct path_memory_access
{
    /// `use_service<path_memory>(context)`, remembered per thread for the
    /// context it was last asked for (no lock, no walk of the registry).
    static path_memory& of(boost::asio::execution_context& context);

    static path_advice advise(path_memory& memory, const boost::asio::ip::tcp::endpoint& destination,
                              bool may_hedge, bool may_read_kernel = false)
    {
        return memory.advise(destination, may_hedge, may_read_kernel);
    }

    static void read_kernel_table(path_memory& memory)
    {
        memory.read_kernel_table();
    }

    static void report(path_memory& memory, const boost::asio::ip::tcp::endpoint& destination,
                       const path_event& event)
    {
        memory.report(destination, event);
    }

    static void set_clock(path_memory& memory, std::function<path_memory::clock_type::time_point()> now)
    {
        memory.set_clock(std::move(now));
    }
};

} // namespace tfo::detail

#endif
