//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A fast-open connect as one resumable state machine, free of sockets and of
// Asio's I/O (the sans-io shape of Boost.MySQL). `resume` takes the result of
// the last action and names the next one; every decision is made here: which
// platform read follows which send, when the path memory is asked and told,
// when an endpoint sequence moves on and when it ends, what counts as
// delivered, which cancellation types the current action honours. Two thin
// drivers perform the actions (impl/async_fastopen_connect.hpp): one
// asynchronous, one synchronous; the stream uses them too. The unit tests
// drive the algorithm with scripted results.
//

#ifndef TFO_DETAIL_CONNECT_ALGORITHM_HPP
#define TFO_DETAIL_CONNECT_ALGORITHM_HPP

#include <tfo/detail/connect_steps.hpp>

#include <boost/asio/cancellation_type.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>

namespace tfo::detail {

/// What a driver must do next, and what it resumes the algorithm with.
enum class connect_action : std::uint8_t
{
    /// Ready the socket for `endpoint_index()`: close it first when
    /// `reopen()`; open it, or reopen it for the endpoint's family when
    /// `reopen_other_family()`. Resume with `ec`.
    prepare_socket,
    /// Ask the path memory for advice on `endpoint_index()` (`hedge_allowed()`
    /// says whether the driver can race a hedge; `kernel_read_allowed()`
    /// whether it may ask for the kernel's record first). Resume with `advice`.
    advise,
    /// The destination is new to the path memory: have it read the kernel's
    /// record of it (a netlink round trip), not inside the initiating
    /// function. Resume with `ec` (`operation_aborted` when the socket was
    /// closed meanwhile).
    read_kernel_record,
    /// Send the SYN with the data from `data_offset()` (0): resume with `syn`.
    send_syn,
    /// Wait until the socket is writable; when `hedge_delay_us()` is not 0,
    /// race a plain connect on a second socket after that delay. Resume with
    /// the wait's `ec`, and `hedge_started`/`hedge_connected`.
    await_syn_ack,
    /// Read the handshake's outcome from the kernel, given the wait error
    /// `wait_error()`. Resume with `outcome`.
    read_outcome,
    /// The hedge won: the user's socket takes the hedge's connection. Resume
    /// with nothing.
    adopt_hedge,
    /// Connect the ordinary way. Resume with `ec`.
    connect,
    /// Read the SYN's evidence after an ordinary connect. Resume with `evidence`.
    read_evidence,
    /// Tell the path memory `event()` about `event_endpoint_index()`. Resume
    /// with nothing.
    report,
    /// Write the data from `data_offset()`. Resume with `ec` and `bytes`.
    write,
    /// Done: `error()`, `bytes_written()`, `established()`, `endpoint_index()`.
    complete
};

/// The result of the last action, and the cancellation requested meanwhile.
struct connect_event
{
    boost::system::error_code ec;
    std::size_t bytes = 0;
    syn_send_result syn;
    path_advice advice;
    handshake_outcome outcome;
    syn_evidence evidence;
    bool hedge_started = false;
    bool hedge_connected = false;
    boost::asio::cancellation_type cancelled = boost::asio::cancellation_type::none;
};

class connect_algorithm
{
public:
    struct options
    {
        /// Try every endpoint in turn (a sequence), reopening the socket
        /// between them; false: the first endpoint only, on the user's socket.
        bool every_endpoint = true;
        /// The driver can race a hedge (the asynchronous one).
        bool hedge_allowed = true;
    };

    /// `endpoint_count` endpoints, to deliver `total_bytes`.
    connect_algorithm(std::size_t endpoint_count, std::size_t total_bytes, options o) noexcept;

    /// The first action (the event is ignored), then the action after each
    /// result.
    connect_action resume(const connect_event& e) noexcept;

    /// The same transitions as `resume`, for a driver that has the one
    /// result an action gives at hand: no event to fill and read back (a
    /// connect performs four or five of these actions in a row, and the
    /// event is most of what they would cost). Each is only for its action.
    connect_action start() noexcept;                                             // the first action
    connect_action socket_prepared(const boost::system::error_code& ec) noexcept; // prepare_socket
    connect_action advised(const path_advice& advice) noexcept;                  // advise
    connect_action syn_sent(const syn_send_result& r) noexcept;                  // send_syn
    connect_action outcome_read(const handshake_outcome& h,                      // read_outcome
                                boost::asio::cancellation_type cancelled) noexcept;
    connect_action evidence_read(const syn_evidence& s,                          // read_evidence
                                 boost::asio::cancellation_type cancelled) noexcept;
    connect_action reported() noexcept;                                          // report
    connect_action wait_ended(const boost::system::error_code& ec,               // await_syn_ack
                              bool hedge_started = false, bool hedge_connected = false) noexcept;
    connect_action connected(const boost::system::error_code& ec,                // connect
                             boost::asio::cancellation_type cancelled) noexcept;
    connect_action written(const boost::system::error_code& ec, std::size_t n,   // write
                           boost::asio::cancellation_type cancelled) noexcept;

    connect_action action() const noexcept { return action_; }

    /// The endpoint being tried, or the one that was established.
    std::size_t endpoint_index() const noexcept { return index_; }

    /// For `prepare_socket`: close the socket first (a new attempt).
    bool reopen() const noexcept { return (options_.every_endpoint && index_ > 0) || mode_ == mode::retry_plain; }

    /// For `prepare_socket`: a socket open with another family is reopened
    /// (a sequence), rather than failing with `address_family_not_supported`.
    bool reopen_other_family() const noexcept { return options_.every_endpoint; }

    bool hedge_allowed() const noexcept { return options_.hedge_allowed; }

    /// For `advise`: the kernel's record was not read yet in this attempt.
    bool kernel_read_allowed() const noexcept { return !kernel_read_; }

    /// For `send_syn` and `write`: where in the data the bytes to send start.
    std::size_t data_offset() const noexcept { return written_; }

    /// For `await_syn_ack`: the hedge delay in microseconds (0: wait for the
    /// SYN's answer alone).
    std::uint32_t hedge_delay_us() const noexcept
    {
        if (action_ != connect_action::await_syn_ack || mode_ != mode::fast_open || !options_.hedge_allowed)
            return 0;
        if (in_syn_ == 0 && !advice_.hedge_cookie_request)
            return 0; // a cookie request, where one passed before
        return advice_.hedge_delay_us;
    }

    /// For `read_outcome`.
    const boost::system::error_code& wait_error() const noexcept { return error_; }

    /// For `report`: what the last handshake taught the path memory, and
    /// about which endpoint.
    const path_event& event() const noexcept { return event_; }
    std::size_t event_endpoint_index() const noexcept { return event_index_; }

    /// Bytes of the first attempt's data known to be in flight in the SYN.
    std::size_t bytes_in_syn() const noexcept { return in_syn_; }

    /// Bytes that went out on a connection the peer established, SYN data
    /// included: the one count the operation reports.
    std::size_t bytes_written() const noexcept { return written_; }

    /// A connection was established (possibly reset since): the sequence
    /// stops here, whatever happens next.
    bool established() const noexcept { return established_; }

    /// Some endpoint was tried: `endpoint_index()` names one.
    bool attempted() const noexcept { return count_ != 0; }

    /// The attempt is the plain retry after a reset answered SYN data.
    bool retrying_plain() const noexcept { return mode_ == mode::retry_plain; }

    /// The operation's result, once `complete`.
    const boost::system::error_code& error() const noexcept { return error_; }

    /// The cancellation types the current action honours: `total` only while
    /// no byte of the data has left the host, since a SYN or a write that
    /// went out cannot be undone.
    boost::asio::cancellation_type honoured_cancellation() const noexcept
    {
        using boost::asio::cancellation_type;
        const bool data_left_the_host = written_ > 0 || (action_ == connect_action::await_syn_ack && in_syn_ > 0);
        if (data_left_the_host)
            return cancellation_type::terminal | cancellation_type::partial;
        return cancellation_type::terminal | cancellation_type::partial | cancellation_type::total;
    }

private:
    enum class mode : std::uint8_t
    {
        fast_open,  // a SYN sent by the platform, with data or a cookie request
        fall_back,  // the platform cannot do Fast Open: a plain connect, nothing to learn
        plain,      // the path memory advised a plain connect
        retry_plain // a reset answered SYN data: once more, plain
    };

    connect_action kernel_record_read(const connect_event& e) noexcept;
    connect_action handshake_done(const handshake_outcome& h, boost::asio::cancellation_type cancelled) noexcept;
    connect_action after_handshake(const handshake_outcome& h, boost::asio::cancellation_type cancelled) noexcept;
    connect_action hedge_won(boost::asio::cancellation_type cancelled) noexcept;

    void learn(const path_event& e) noexcept;
    connect_action report_then(connect_action next) noexcept;
    connect_action next_endpoint(const boost::system::error_code& ec) noexcept;
    connect_action finish(const boost::system::error_code& ec) noexcept;
    connect_action write_or_finish() noexcept;

    // Ordered by size: the operation that holds the algorithm is allocated
    // per connect and moved at every step.
    std::size_t count_;
    std::size_t total_;
    std::size_t index_ = 0;
    std::size_t in_syn_ = 0;
    std::size_t written_ = 0;
    std::size_t event_index_ = 0;
    // The wait's error while the outcome is read, the result once complete.
    boost::system::error_code error_;
    path_advice advice_;
    path_event event_;
    options options_;
    bool started_ = false;
    bool established_ = false;
    bool hedge_started_ = false;
    bool hedge_connected_ = false;
    bool retried_ = false;
    bool kernel_read_ = false;
    connect_action action_ = connect_action::prepare_socket;
    connect_action after_report_ = connect_action::complete;
    mode mode_ = mode::fast_open;
};

} // namespace tfo::detail

#endif
