//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_IMPL_SOCKET_OPTIONS_HPP
#define TFO_IMPL_SOCKET_OPTIONS_HPP

#include <tfo/error.hpp>
#include <tfo/detail/throw_error.hpp>

#include <boost/throw_exception.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <stdexcept>

namespace tfo {
namespace detail {

// Asio calls resize() with the length getsockopt returned; anything else than
// what we asked for means the kernel is not speaking about our option.
template <platform::tcp_option Option>
template <typename Protocol>
void tcp_int_option_base<Option>::resize(const Protocol&, std::size_t s)
{
    if (s != sizeof(value_))
        boost::throw_exception(std::length_error("tfo: unexpected size for a TCP option"));
}

} // namespace detail

inline fast_open_key::fast_open_key(std::span<const unsigned char> primary_then_backup)
{
    *this = detail::call_or_throw("tfo::fast_open_key", [&](boost::system::error_code& ec) {
        return fast_open_key(primary_then_backup, ec);
    });
}

inline fast_open_key::fast_open_key(std::span<const unsigned char> primary_then_backup,
                                    boost::system::error_code& ec) noexcept
{
    if (primary_then_backup.size() != key_size && primary_then_backup.size() != 2 * key_size)
    {
        ec = error::invalid_key_size;
        return;
    }
    ec.clear();
    std::copy(primary_then_backup.begin(), primary_then_backup.end(), bytes_.begin());
    size_ = primary_then_backup.size();
}

inline fast_open_key::fast_open_key(std::span<const unsigned char, key_size> primary,
                                    std::span<const unsigned char, key_size> backup) noexcept
    : size_(2 * key_size)
{
    std::copy(primary.begin(), primary.end(), bytes_.begin());
    std::copy(backup.begin(), backup.end(), bytes_.begin() + key_size);
}

template <typename Protocol>
void fast_open_key::resize(const Protocol&, std::size_t s)
{
    // The kernel answers with one key, both keys, or nothing when the listener
    // has no key of its own.
    if (s != 0 && s != key_size && s != 2 * key_size)
        boost::throw_exception(std::length_error("tfo: unexpected size for TCP_FASTOPEN_KEY"));
    size_ = s;
}

} // namespace tfo

#endif
