//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_KEY_SCHEDULE_HPP
#define TFO_KEY_SCHEDULE_HPP

#include <tfo/socket_options.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tfo {

/// The TCP Fast Open cookie keys of a fleet, derived from one shared secret
/// and the time.
///
/// Servers that share an address (anycast, behind a load balancer) must
/// accept each other's cookies, so they need the same key. Each server builds
/// a `key_schedule` from the same secret and period; for every period they
/// all derive the same key, with no coordination beyond roughly synchronised
/// clocks. The listener gets the current period's key as primary and the
/// previous period's as backup, so cookies handed out just before a rotation
/// stay valid for one more period, and a clock skew of up to one period is
/// tolerated.
///
/// The key of period `i` is the first 16 bytes of
/// HMAC-SHA256(secret, "tfo-fastopen-key-v1" || i as 8 big-endian bytes),
/// where `i` counts whole periods since the Unix epoch. HMAC-SHA256 is
/// OpenSSL's; this part of the library is the `tfo::key_schedule` CMake
/// target, so the core `tfo::tfo` does not depend on OpenSSL.
///
/// The secret is kept in memory only, wiped on destruction, and never
/// printed; only keys derived from it reach the kernel.
///
/// @par Example
/// @code
/// auto schedule = tfo::key_schedule::from_file("/etc/tfo/secret", std::chrono::hours(1));
/// tfo::async_rotate_keys(acceptor, schedule, boost::asio::detached);
/// @endcode
class key_schedule
{
public:
    /// The clock periods are counted on: wall-clock time, shared by a fleet.
    using clock = std::chrono::system_clock;

    /// The secret (at least 16 bytes) and the rotation period.
    /// @throws boost::system::system_error with `tfo::error::secret_too_short`
    /// or `tfo::error::invalid_period`.
    key_schedule(std::span<const unsigned char> secret, std::chrono::seconds period);

    /// As the constructor; errors in `ec`, and then no schedule at all: every
    /// `key_schedule` that exists holds a valid secret and period.
    static std::optional<key_schedule> create(std::span<const unsigned char> secret, std::chrono::seconds period,
                                              boost::system::error_code& ec);

    /// Copies the secret. A move is a copy too, so that no object is ever
    /// left without its secret.
    key_schedule(const key_schedule& other);
    /// Copies the secret, wiping the one it replaces.
    key_schedule& operator=(const key_schedule& other);
    ~key_schedule();

    /// Reads the secret from a file: all its bytes, as they are.
    /// @throws boost::system::system_error with `tfo::error::secret_unreadable`,
    /// `secret_too_short` or `invalid_period`.
    static key_schedule from_file(const std::string& path, std::chrono::seconds period);

    /// As above; errors in `ec`, and then no schedule.
    static std::optional<key_schedule> from_file(const std::string& path, std::chrono::seconds period,
                                                 boost::system::error_code& ec);

    /// The rotation period.
    std::chrono::seconds period() const noexcept { return period_; }

    /// The number of the period that `t` falls in.
    std::uint64_t period_at(clock::time_point t) const noexcept;

    /// The key of period `index` (16 bytes, no backup).
    fast_open_key key_of_period(std::uint64_t index) const;

    /// What a listener should hold at `t`: the current period's key, and the
    /// previous period's as backup.
    fast_open_key keys_at(clock::time_point t) const;

    /// When the period after the one holding `t` begins.
    clock::time_point next_rotation(clock::time_point t) const noexcept;

private:
    struct validated
    {
    };
    key_schedule(validated, std::span<const unsigned char> secret, std::chrono::seconds period);

    std::vector<unsigned char> secret_;
    std::chrono::seconds period_;
};

/// Keeps a listener's Fast Open keys in step with a `key_schedule`: installs
/// `schedule.keys_at(now)` at once and again at every period boundary, on a
/// timer of the acceptor's executor. Established connections are not affected
/// by a rotation.
///
/// The rotation is an operation on the acceptor, and ends with it like any
/// other: closing or destroying the acceptor ends it promptly with
/// `operation_aborted`, whatever the completion token (`asio::detached`
/// included), and nothing touches the acceptor after that. It also ends on
/// per-operation cancellation, or when installing a key fails.
///
/// @param acceptor A TCP acceptor, open and listening. It need not outlive
/// the operation, but must not be moved or `release()`d while it runs.
/// @param schedule The schedule; copied.
/// @param token The completion token. The completion signature is
/// @code
/// void(boost::system::error_code ec)
/// @endcode
/// `ec` is `operation_aborted` when the acceptor was closed or destroyed, or
/// after cancellation; `bad_descriptor` when the acceptor was not open;
/// `invalid_argument` when it was not listening, or stopped listening
/// (`shutdown`); otherwise the error of the `set_option` call that failed.
/// The handler is never called inside the initiating function.
///
/// @par Per-Operation Cancellation
/// `terminal` and `partial`: the rotation stops with `operation_aborted`
/// and the listener keeps the keys it holds. `total` is not honoured, since
/// keys already installed cannot be taken back.
///
/// @par Example
/// @code
/// tfo::async_rotate_keys(acceptor, schedule, boost::asio::detached);
/// // ... acceptor.close() ends the rotation too.
/// @endcode
template <typename Executor,
          typename CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_rotate_keys(boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>& acceptor,
                       const key_schedule& schedule,
                       CompletionToken&& token = boost::asio::default_completion_token_t<Executor>());

} // namespace tfo

#include <tfo/impl/key_schedule.hpp>

#endif
