//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_SOCKET_OPTIONS_HPP
#define TFO_SOCKET_OPTIONS_HPP

#include <tfo/detail/platform.hpp>

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

namespace tfo {

namespace detail {

// What every option here shares: an `int` at the level and name the platform
// gives it (detail/platform.hpp), as the kernel takes and returns it. Where
// the platform lacks the option its name is one no system has, so that
// setting it fails with `no_protocol_option` instead of meaning something else. Meets Asio's
// SettableSocketOption and GettableSocketOption requirements.
template <platform::tcp_option Option>
class tcp_int_option_base
{
public:
    template <typename Protocol> int level(const Protocol&) const noexcept { return platform::option_of(Option).level; }
    template <typename Protocol> int name(const Protocol&) const noexcept { return platform::option_of(Option).name; }
    template <typename Protocol> int* data(const Protocol&) noexcept { return &value_; }
    template <typename Protocol> const int* data(const Protocol&) const noexcept { return &value_; }
    template <typename Protocol> constexpr std::size_t size(const Protocol&) const noexcept { return sizeof(value_); }
    template <typename Protocol> void resize(const Protocol&, std::size_t s);

protected:
    constexpr tcp_int_option_base() noexcept = default;
    constexpr explicit tcp_int_option_base(int v) noexcept : value_(v) {}

    int value_ = 0;
};

// An integer option.
template <platform::tcp_option Option>
class int_option : public tcp_int_option_base<Option>
{
public:
    constexpr int_option() noexcept = default;
    constexpr explicit int_option(int v) noexcept : tcp_int_option_base<Option>(v) {}

    constexpr int value() const noexcept { return this->value_; }
};

// A boolean option.
template <platform::tcp_option Option>
class bool_option : public tcp_int_option_base<Option>
{
public:
    constexpr bool_option() noexcept = default;
    constexpr explicit bool_option(bool v) noexcept : tcp_int_option_base<Option>(v ? 1 : 0) {}

    constexpr bool value() const noexcept { return this->value_ != 0; }
    constexpr explicit operator bool() const noexcept { return value(); }
    constexpr bool operator!() const noexcept { return !value(); }
};

} // namespace detail

// Every option below is Linux's. Elsewhere (Windows) setting or getting one
// fails with `boost::asio::error::no_protocol_option`: take the error_code
// form where a program runs on both and serves without Fast Open.

/// Enables TCP Fast Open on a listening socket (`TCP_FASTOPEN`).
///
/// The value is the length of the queue of connections that were accepted
/// with data in the SYN but have not finished their handshake yet; `0`
/// turns Fast Open off for the listener. When the queue is full the kernel
/// falls back to an ordinary handshake (counter `TCPFastOpenListenOverflow`).
/// It may be set before or after `listen()`. The server bit (2) of
/// `net.ipv4.tcp_fastopen` must also be set, see `tfo::system_support()`.
/// The kernel caps the length at `net.core.somaxconn`. A negative length,
/// or setting the option on a connected socket, fails with `invalid_argument`.
///
/// @par Example
/// Setting the option, the one line a server adds:
/// @code
/// boost::asio::ip::tcp::acceptor acceptor(io, endpoint);
/// acceptor.set_option(tfo::fast_open{256});
/// @endcode
///
/// @par
/// Getting the current value:
/// @code
/// tfo::fast_open option;
/// acceptor.get_option(option);
/// int queue_length = option.value();
/// @endcode
using fast_open = detail::int_option<detail::platform::tcp_option::fast_open>;

/// Makes `connect()` defer the SYN until the first write, which then rides
/// in the SYN (`TCP_FASTOPEN_CONNECT`, Linux 4.11).
///
/// This lets unchanged client code, such as a Beast or `asio::ssl` handshake
/// after the socket's member `connect`/`async_connect`, use Fast Open. Set it
/// on an open socket before connecting. Setting it fails with
/// `operation_not_supported` when the client bit (1) of
/// `net.ipv4.tcp_fastopen` is clear, and with `invalid_argument` on a
/// connected socket.
///
/// @par Traps
/// - When the kernel holds a cookie for the server, `connect` completes at
///   once, before any packet is sent; errors such as "connection refused"
///   surface on the first write or read instead.
/// - A protocol where the server speaks first (SMTP, FTP, MySQL) passes a
///   quick test and hangs in production. The first connection to a server,
///   with no cookie yet, connects as usual; once a cookie is cached, `connect`
///   sends nothing, the server waits for the client's first bytes and the
///   client waits for the server's greeting, forever. Use the option only
///   where the client speaks first, or use `tfo::fast_open_stream`, whose
///   first read connects without data.
/// - If no data fits in the SYN, the first non-blocking write may fail with
///   `EINPROGRESS` (`boost::asio::error::in_progress`), which plain Asio
///   treats as an error.
/// - The free functions `asio::connect` and `asio::async_connect` over an
///   endpoint sequence (and Beast's `tcp_stream::async_connect` with one)
///   close and reopen the socket before every attempt, so the option is lost
///   and no data rides in the SYN. Use the socket's member `connect` with one
///   endpoint, setting the option for each attempt.
/// `tfo::async_fastopen_connect` has none of these traps.
///
/// @par Example
/// @code
/// boost::asio::ip::tcp::socket socket(io);
/// socket.open(boost::asio::ip::tcp::v4());
/// socket.set_option(tfo::fast_open_deferred_connect{true});
/// socket.connect(endpoint);                       // sends nothing yet
/// boost::asio::write(socket, request);            // the SYN carries the request
/// @endcode
using fast_open_deferred_connect = detail::bool_option<detail::platform::tcp_option::fast_open_deferred_connect>;

/// The former name of `fast_open_deferred_connect`, one underscore away from
/// the function `tfo::fastopen_connect`.
using fast_open_connect [[deprecated("use tfo::fast_open_deferred_connect")]] = fast_open_deferred_connect;

/// Sends or accepts data in the SYN without a cookie
/// (`TCP_FASTOPEN_NO_COOKIE`, Linux 4.15).
///
/// On a client it skips the cookie exchange with this one server; on a
/// listener it accepts SYN data without checking cookies. Only for peers
/// known to be safe: cookies are what stops spoofed SYN floods from making
/// the server do work. Set it before connecting or on the listener.
///
/// @par Example
/// @code
/// acceptor.set_option(tfo::fast_open_no_cookie{true});
/// @endcode
using fast_open_no_cookie = detail::bool_option<detail::platform::tcp_option::fast_open_no_cookie>;

/// The key a listener uses to make and check Fast Open cookies
/// (`TCP_FASTOPEN_KEY`, Linux 4.20; a backup key needs Linux 5.3).
///
/// A key is 16 bytes. With a second, backup key the listener also accepts
/// cookies made with the backup, which lets a fleet rotate keys without
/// rejecting the cookies clients already hold. Servers that share one
/// address must share the key.
///
/// A key of any other size is rejected when the option is built, before any
/// system call: the throwing constructor throws `boost::system::system_error`
/// with `tfo::error::invalid_key_size`, the `error_code` one sets it.
///
/// A default-constructed key is empty: it is a buffer for `get_option`,
/// which leaves it empty when the listener has no key of its own (it then
/// uses the namespace's `net.ipv4.tcp_fastopen_key`).
/// Setting an empty key fails with `invalid_argument` and leaves the
/// listener's key as it was.
///
/// @par Example
/// @code
/// std::array<unsigned char, 32> keys = load_keys(); // primary then backup
/// acceptor.set_option(tfo::fast_open_key{keys});
///
/// tfo::fast_open_key current;
/// acceptor.get_option(current);
/// bool rotating = current.has_backup();
/// @endcode
class fast_open_key
{
public:
    /// The size of one key.
    static constexpr std::size_t key_size = 16;

    /// An empty key, to be filled by `get_option`.
    fast_open_key() noexcept = default;

    /// A primary key (16 bytes), or a primary then a backup key (32 bytes).
    /// @throws boost::system::system_error with `tfo::error::invalid_key_size`
    /// for any other size.
    explicit fast_open_key(std::span<const unsigned char> primary_then_backup);

    /// As above; on a wrong size sets `ec` to `tfo::error::invalid_key_size`
    /// and leaves the key empty.
    fast_open_key(std::span<const unsigned char> primary_then_backup, boost::system::error_code& ec) noexcept;

    /// A primary and a backup key.
    fast_open_key(std::span<const unsigned char, key_size> primary,
                  std::span<const unsigned char, key_size> backup) noexcept;

    /// True when the key holds no bytes.
    bool empty() const noexcept { return size_ == 0; }

    /// True when the key holds a backup key after the primary one.
    bool has_backup() const noexcept { return size_ == 2 * key_size; }

    /// The primary key; empty when the key is empty.
    std::span<const unsigned char> primary() const noexcept { return bytes().first(size_ == 0 ? 0 : key_size); }

    /// The backup key; empty when there is none.
    std::span<const unsigned char> backup() const noexcept { return bytes().subspan(size_ == 0 ? 0 : key_size); }

    /// All the bytes: the primary key followed by the backup key, if any.
    std::span<const unsigned char> bytes() const noexcept { return {bytes_.data(), size_}; }

    /// Two keys are equal when they hold the same bytes.
    friend bool operator==(const fast_open_key& a, const fast_open_key& b) noexcept
    {
        return a.size_ == b.size_ && std::equal(a.bytes_.begin(), a.bytes_.begin() + a.size_, b.bytes_.begin());
    }

    // What Asio's `set_option` and `get_option` call (SettableSocketOption,
    // GettableSocketOption). A set sends the key's own size; a get offers
    // room for both keys.

    /// The option's level, for Asio.
    template <typename Protocol> int level(const Protocol&) const noexcept { return option().level; }
    /// The option's name, for Asio.
    template <typename Protocol> int name(const Protocol&) const noexcept { return option().name; }
    /// Room for both keys, for `get_option`.
    template <typename Protocol> void* data(const Protocol&) noexcept { return bytes_.data(); }
    /// The key's bytes, for `set_option`.
    template <typename Protocol> const void* data(const Protocol&) const noexcept { return bytes_.data(); }
    /// The room offered to `get_option`: both keys.
    template <typename Protocol> std::size_t size(const Protocol&) noexcept { return bytes_.size(); }
    /// The size `set_option` sends: the key's own.
    template <typename Protocol> std::size_t size(const Protocol&) const noexcept { return size_; }
    /// Takes the size the kernel answered (0, 16 or 32; anything else throws
    /// `std::length_error`).
    template <typename Protocol> void resize(const Protocol&, std::size_t s);

private:
    static detail::platform::option_id option() noexcept
    {
        return detail::platform::option_of(detail::platform::tcp_option::fast_open_key);
    }

    std::array<unsigned char, 2 * key_size> bytes_{};
    std::size_t size_ = 0;
};

} // namespace tfo

#include <tfo/impl/socket_options.hpp>

#endif
