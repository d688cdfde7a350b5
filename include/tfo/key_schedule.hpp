//
// tfo: TCP Fast Open for Boost.Asio
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
    using clock = std::chrono::system_clock;

    /// The secret (at least 16 bytes) and the rotation period.
    /// @throws boost::system::system_error with `tfo::error::secret_too_short`
    /// or `tfo::error::invalid_period`.
    key_schedule(std::span<const unsigned char> secret, std::chrono::seconds period);

    /// As above; errors in `ec`, leaving a schedule that cannot be used: its
    /// keys throw `invalid_period`, and `async_rotate_keys` completes with it.
    key_schedule(std::span<const unsigned char> secret, std::chrono::seconds period,
                 boost::system::error_code& ec);

    // Each copy is wiped when it is destroyed or assigned over.
    key_schedule(const key_schedule&) = default;
    key_schedule(key_schedule&&) noexcept = default;
    key_schedule& operator=(const key_schedule& other);
    key_schedule& operator=(key_schedule&& other) noexcept;
    ~key_schedule();

    /// Reads the secret from a file: all its bytes, as they are.
    /// @throws boost::system::system_error with `tfo::error::secret_unreadable`,
    /// `secret_too_short` or `invalid_period`.
    static key_schedule from_file(const std::string& path, std::chrono::seconds period);

    /// As above; errors in `ec`.
    static key_schedule from_file(const std::string& path, std::chrono::seconds period,
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
    key_schedule() = default;

    std::vector<unsigned char> secret_;
    std::chrono::seconds period_{0};
};

/// Keeps a listener's Fast Open keys in step with a `key_schedule`: installs
/// `schedule.keys_at(now)` at once and again at every period boundary, on a
/// timer of the acceptor's executor. Established connections are not affected
/// by a rotation.
///
/// The operation runs until cancelled, or until installing a key fails.
///
/// @param acceptor A TCP acceptor, open; it must outlive the operation.
/// @param schedule The schedule; copied.
/// @param token The completion token. The completion signature is
/// @code
/// void(boost::system::error_code ec)
/// @endcode
/// `ec` is `operation_aborted` after cancellation, `tfo::error::invalid_period`
/// for a schedule whose construction failed, or the error of the
/// `set_option` call that failed.
///
/// @par Per-Operation Cancellation
/// `terminal`. Closing the acceptor does not stop it until the next rotation,
/// which then fails with `bad_descriptor`.
template <typename Executor,
          typename CompletionToken = boost::asio::default_completion_token_t<Executor>>
auto async_rotate_keys(boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>& acceptor,
                       const key_schedule& schedule,
                       CompletionToken&& token = boost::asio::default_completion_token_t<Executor>());

} // namespace tfo

#include <tfo/impl/key_schedule.hpp>

#endif
