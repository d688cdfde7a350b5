//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The throwing form of an `error_code` overload, written once.
//

#ifndef TFO_DETAIL_THROW_ERROR_HPP
#define TFO_DETAIL_THROW_ERROR_HPP

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <type_traits>

namespace tfo::detail {

// Throws `system_error(ec, what)` when `ec` holds an error.
inline void throw_if(const boost::system::error_code& ec, const char* what)
{
    if (ec)
        boost::throw_exception(boost::system::system_error(ec, what));
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
        throw_if(ec, what);
    }
    else
    {
        auto result = call(ec);
        throw_if(ec, what);
        return result;
    }
}

} // namespace tfo::detail

#endif
