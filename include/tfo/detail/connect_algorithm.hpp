//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The decisions of a fast-open connect, free of sockets and of Asio's I/O
// (the sans-io shape of Boost.MySQL): the asynchronous operation and the
// synchronous function both drive this one algorithm, which says what to do
// next and keeps the count of delivered bytes, so that every decision
// (fallback, next endpoint, what a reset or a cancellation means for the
// count) is unit-tested without a network.
//

#ifndef TFO_DETAIL_CONNECT_ALGORITHM_HPP
#define TFO_DETAIL_CONNECT_ALGORITHM_HPP

#include <tfo/detail/connect_steps.hpp>

#include <boost/asio/cancellation_type.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>

namespace tfo::detail {

class connect_algorithm
{
public:
    /// The next thing the I/O layer must do.
    enum class step
    {
        prepare_socket, ///< open the socket for `endpoint_index()`, reopening it when `reopen()`
        send_syn,       ///< rewind the buffers, send the SYN with what fits; report with `syn_sent`
        await_syn_ack,  ///< wait until the socket is writable; report with `handshake_done` (again
                        ///< after an `unanswered` outcome: the wake-up was stale)
        connect,        ///< rewind the buffers, connect the ordinary way; report with `handshake_done`
        write,          ///< write the rest of the buffers; report with `written`
        complete        ///< done: `error()`, `bytes_written()`, `established()`
    };

    /// `endpoint_count` endpoints to try in turn (only the first unless
    /// `try_every_endpoint`), to deliver `total_bytes`.
    connect_algorithm(std::size_t endpoint_count, std::size_t total_bytes, bool try_every_endpoint) noexcept;

    step start() noexcept;

    /// The socket for `endpoint_index()` is ready (or not: `ec`), and the
    /// path memory advised `advice` for that endpoint: a plain connect skips
    /// the fast-open SYN altogether.
    step socket_prepared(const boost::system::error_code& ec, const path_advice& advice = {}) noexcept;

    step syn_sent(const syn_send_result& r) noexcept;
    step handshake_done(const handshake_outcome& h, boost::asio::cancellation_type cancelled) noexcept;

    /// The hedge delay for the current `await_syn_ack` (microseconds; 0: wait
    /// for the SYN's answer alone).
    std::uint32_t hedge_delay_us() const noexcept
    {
        if (step_ != step::await_syn_ack || mode_ != mode::fast_open)
            return 0;
        if (in_syn_ == 0 && !advice_.hedge_cookie_request)
            return 0; // a cookie request, where one passed before
        return advice_.hedge_delay_us;
    }

    /// The hedge's plain connect started on a second socket.
    void hedge_started() noexcept { hedge_started_ = true; }

    /// The hedge was established first, and the socket now holds it: the
    /// fast-open SYN's data went nowhere the operation can vouch for, so
    /// everything is written on the hedge's connection, from the first byte
    /// (`bytes_written()` is 0 when it returns).
    step hedge_won(const handshake_outcome& h, boost::asio::cancellation_type cancelled) noexcept;

    /// After a `connect` step that succeeded, read the SYN's evidence into
    /// the outcome (the path memory wants to know whether plain SYNs are lost).
    bool observe_connect() const noexcept { return mode_ == mode::plain && advice_.observe_plain; }

    /// What the last handshake taught the path memory, and about which
    /// endpoint; `kind == none` (and no RTT sample) when nothing.
    const path_event& event() const noexcept { return event_; }
    std::size_t event_endpoint_index() const noexcept { return event_index_; }
    step written(const boost::system::error_code& ec, std::size_t n,
                 boost::asio::cancellation_type cancelled) noexcept;

    /// The endpoint being tried, or the one that was established.
    std::size_t endpoint_index() const noexcept { return index_; }

    /// Whether the socket must be closed and opened again before this attempt.
    bool reopen() const noexcept { return (every_endpoint_ && index_ > 0) || mode_ == mode::retry_plain; }

    /// The attempt is the plain retry after a reset answered SYN data: the
    /// socket must be prepared again, whatever the path memory would advise.
    bool retrying_plain() const noexcept { return mode_ == mode::retry_plain; }

    /// Bytes of the first attempt's data known to be in flight in the SYN.
    std::size_t bytes_in_syn() const noexcept { return in_syn_; }

    /// Bytes that went out on a connection the peer established, SYN data
    /// included: the one count the operation reports.
    std::size_t bytes_written() const noexcept { return written_; }

    /// A connection was established (possibly reset since): the sequence
    /// stops here, whatever happens next.
    bool established() const noexcept { return established_; }

    /// The operation's result, once `complete`.
    const boost::system::error_code& error() const noexcept { return result_; }

    /// The cancellation types the current step honours: `total` only while no
    /// byte of the data has left the host, since a SYN or a write that went
    /// out cannot be undone.
    boost::asio::cancellation_type honoured_cancellation() const noexcept;

private:
    enum class mode
    {
        fast_open,  // a SYN sent by the platform, with data or a cookie request
        fall_back,  // the platform cannot do Fast Open: a plain connect, nothing to learn
        plain,      // the path memory advised a plain connect
        retry_plain // a reset answered SYN data: once more, plain
    };

    void learn(const path_event& e) noexcept;
    step next_endpoint(const boost::system::error_code& ec) noexcept;
    step finish(const boost::system::error_code& ec) noexcept;
    step write_or_finish() noexcept;

    std::size_t count_;
    std::size_t total_;
    bool every_endpoint_;
    std::size_t index_ = 0;
    std::size_t in_syn_ = 0;
    std::size_t written_ = 0;
    bool established_ = false;
    step step_ = step::prepare_socket;
    mode mode_ = mode::fast_open;
    path_advice advice_;
    bool hedge_started_ = false;
    bool retried_ = false;
    path_event event_;
    std::size_t event_index_ = 0;
    boost::system::error_code result_;
};

} // namespace tfo::detail

#endif
