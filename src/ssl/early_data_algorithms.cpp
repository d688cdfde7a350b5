//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The early-data algorithms (detail/early_data.hpp): every OpenSSL call and
// every decision of the three operations, without I/O.
//

#include <tfo/ssl/early_data.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <tuple>

namespace tfo::ssl::detail {
namespace {

struct session_deleter
{
    void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

// The server's flight must outlive the call of read_early_data that
// produced it: it waits for the answer of a later write_early_data, or for
// the next read_early_data to send it before waiting for the client. Those
// are separate public calls on an asio::ssl::stream, which has no room of
// ours, and asio's BIO pair must be back in place between them (the caller
// may use the stream). The connection object is the only thing both calls
// see, so the bytes wait in its ex_data, from one operation's end to the
// next one's start; within an operation they are the algorithm's own state.
struct held_flight
{
    bytes flight;
};

void free_held(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*)
{
    delete static_cast<held_flight*>(ptr);
}

// SSL_dup copies the pointer first; the copy holds nothing.
int dup_held(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from_d, int, long, void*)
{
    *from_d = nullptr;
    return 1;
}

int held_index()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, dup_held, free_held);
    return index;
}

bytes take_held_flight(SSL* ssl)
{
    auto* held = static_cast<held_flight*>(SSL_get_ex_data(ssl, held_index()));
    if (held == nullptr)
        return {};
    return std::exchange(held->flight, {});
}

void hold_flight(SSL* ssl, bytes flight)
{
    auto* held = static_cast<held_flight*>(SSL_get_ex_data(ssl, held_index()));
    if (held == nullptr)
    {
        if (flight.empty())
            return;
        held = new held_flight;
        SSL_set_ex_data(ssl, held_index(), held);
    }
    held->flight = std::move(flight);
}

// The ClientHello plus `request` as early data, produced in memory BIOs.
// Where OpenSSL refuses early data that `early_data_decision` cannot foresee
// (the ticket's ALPN protocol is not among those the connection offers), the
// flight is a ClientHello that resumes without early data, and `reason`
// becomes `not_allowed`.
bytes make_first_flight(SSL* ssl, std::span<const unsigned char> request, not_attempted_reason& reason,
                        boost::system::error_code& ec)
{
    ec = {};
    bytes flight;
    if (SSL_in_before(ssl))
        SSL_set_connect_state(ssl); // a context made for both roles starts as a server
    // OpenSSL sends early data only where the connection offers the ticket's
    // ALPN protocol (RFC 8446, section 4.2.10), and the list a connection
    // offers cannot be read back: the attempt tells. A failed one marks the
    // ticket not resumable, so a copy is kept to resume with.
    SSL_SESSION* ticket = SSL_get_session(ssl);
    const unsigned char* alpn = nullptr;
    std::size_t alpn_size = 0;
    SSL_SESSION_get0_alpn_selected(ticket, &alpn, &alpn_size);
    session_ptr spare(alpn_size != 0 ? SSL_SESSION_dup(ticket) : nullptr);

    memory_bios bios(ssl);
    ERR_clear_error();
    std::size_t written = 0;
    int ret = SSL_write_early_data(ssl, request.data(), request.size(), &written);
    if (ret == 1 && written == request.size())
    {
        bios.drain_output(flight);
        return flight;
    }
    if (ret != 1 && spare && ERR_GET_REASON(ERR_peek_error()) == SSL_R_INCONSISTENT_EARLY_DATA_ALPN)
    {
        // Start again with the ticket's copy and no early data: a ClientHello
        // that resumes the session. OpenSSL leaves the connection in its
        // "connect again for early data" state, which only
        // SSL_write_early_data leaves, so the ClientHello is made by writing
        // no data early; the copy forgets its protocol so that OpenSSL lets
        // it through, and the server, which keeps the protocol in the ticket,
        // refuses early data (there is none). The request is sent after the
        // handshake.
        ERR_clear_error();
        bytes failed_attempt;
        bios.drain_output(failed_attempt); // its alert, never sent
        SSL_clear(ssl);
        SSL_set_connect_state(ssl);
        SSL_SESSION_set1_alpn_selected(spare.get(), nullptr, 0);
        SSL_set_session(ssl, spare.get());
        ret = SSL_write_early_data(ssl, request.data(), 0, &written);
        if (ret == 1)
        {
            bios.drain_output(flight);
            reason = not_attempted_reason::not_allowed;
            return flight;
        }
    }
    ec = ret != 1 ? last_error(ssl, ret) : boost::asio::ssl::error::unexpected_result;
    return flight;
}

action ask(action::kind what)
{
    action a;
    a.what = what;
    return a;
}

action write_next_layer(const bytes& b)
{
    action a = ask(action::kind::write);
    a.out = boost::asio::buffer(b);
    return a;
}

action write_through_stream(std::span<const unsigned char> b)
{
    action a = ask(action::kind::write_stream);
    a.out = boost::asio::buffer(b.data(), b.size());
    return a;
}

action read_next_layer(action::kind what, boost::asio::mutable_buffer into)
{
    action a = ask(what);
    a.in = into;
    return a;
}

constexpr std::size_t header_size = std::tuple_size_v<record_header>;

} // namespace

// ---- shared ----

boost::system::error_code last_error(SSL* ssl, int ret)
{
    const int reason = SSL_get_error(ssl, ret);
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e != 0)
        return {static_cast<int>(e), boost::asio::error::get_ssl_category()};
    if (reason == SSL_ERROR_ZERO_RETURN)
        return boost::asio::error::eof;
    return boost::asio::ssl::error::unexpected_result;
}

std::size_t record_body_size(const record_header& header, boost::system::error_code& ec)
{
    // Content types 20 to 24; a TLS 1.3 ciphertext is at most 2^14 + 256
    // bytes, a TLS 1.2 one 2^14 + 2048 (RFC 8446 section 5.2, RFC 5246 6.2.3).
    const std::size_t size = (std::size_t{header[3]} << 8) | header[4];
    if (header[0] < 20 || header[0] > 24 || header[1] != 3 || size == 0 || size > (1u << 14) + 2048)
    {
        ec = boost::asio::ssl::error::unexpected_result;
        return 0;
    }
    ec = {};
    return size;
}

// OpenSSL holds one reference per BIO slot, even when both slots hold the
// same BIO (as asio's do), so each slot is swapped on its own with
// SSL_set0_*, with a reference taken to each original first.
memory_bios::memory_bios(SSL* ssl) : ssl_(ssl)
{
    SSL_up_ref(ssl);
    original_read_ = SSL_get_rbio(ssl);
    original_write_ = SSL_get_wbio(ssl); // below OpenSSL's buffering BIO, if any
    if (original_read_ != nullptr)
        BIO_up_ref(original_read_);
    if (original_write_ != nullptr)
        BIO_up_ref(original_write_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    // An empty memory BIO reads as "try again", not as end of file.
    BIO_set_mem_eof_return(in_, -1);
    SSL_set0_rbio(ssl, in_);
    SSL_set0_wbio(ssl, out_);
}

memory_bios::memory_bios(memory_bios&& other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)), original_read_(other.original_read_),
      original_write_(other.original_write_), in_(other.in_), out_(other.out_)
{
}

memory_bios& memory_bios::operator=(memory_bios&& other) noexcept
{
    if (this != &other)
    {
        restore();
        ssl_ = std::exchange(other.ssl_, nullptr);
        original_read_ = other.original_read_;
        original_write_ = other.original_write_;
        in_ = other.in_;
        out_ = other.out_;
    }
    return *this;
}

void memory_bios::restore() noexcept
{
    if (ssl_ == nullptr)
        return;
    SSL_set0_rbio(ssl_, original_read_); // frees in_
    SSL_set0_wbio(ssl_, original_write_); // frees out_
    SSL_free(ssl_);
    ssl_ = nullptr;
}

void memory_bios::feed(std::span<const unsigned char> data)
{
    if (!data.empty())
        BIO_write(in_, data.data(), static_cast<int>(data.size()));
}

std::size_t memory_bios::input_left() const
{
    return BIO_ctrl_pending(in_);
}

void memory_bios::drain_output(bytes& to)
{
    char* data = nullptr;
    const long n = BIO_get_mem_data(out_, &data);
    if (n > 0)
        to.insert(to.end(), data, data + n);
    (void)BIO_reset(out_);
}

// ---- client ----

not_attempted_reason early_data_decision(SSL* ssl, std::size_t request_size, replay_safety safety)
{
    if (safety != replay_safety::safe)
        return not_attempted_reason::not_replay_safe;
    const SSL_SESSION* session = SSL_get_session(ssl);
    if (session == nullptr || !SSL_SESSION_is_resumable(session))
        return not_attempted_reason::no_ticket;
    if (SSL_SESSION_get_protocol_version(session) != TLS1_3_VERSION || SSL_SESSION_get_max_early_data(session) == 0)
        return not_attempted_reason::not_allowed;
    // OpenSSL refuses to send early data under another server name than the
    // one the ticket records (RFC 8446, section 4.2.10). A ticket records a
    // name only when the server acknowledged the client's.
    const char* ticket_name = SSL_SESSION_get0_hostname(session);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (ticket_name != nullptr && (name == nullptr || std::strcmp(ticket_name, name) != 0))
        return not_attempted_reason::not_allowed;
    if (request_size == 0)
        return not_attempted_reason::empty_request;
    if (request_size > SSL_SESSION_get_max_early_data(session))
        return not_attempted_reason::too_big;
    return not_attempted_reason::none;
}

early_data_outcome make_outcome(SSL* ssl, not_attempted_reason reason, std::size_t first_flight_size, bool v6)
{
    early_data_outcome outcome;
    outcome.reason = reason;
    outcome.resumed = SSL_session_reused(ssl) == 1;
    outcome.first_flight_size = first_flight_size;
    outcome.syn_data_limit = v6 ? syn_data_limit_v6 : syn_data_limit_v4;
    if (reason != not_attempted_reason::none)
        outcome.status = early_data_status::not_attempted;
    else if (SSL_get_early_data_status(ssl) == SSL_EARLY_DATA_ACCEPTED)
        outcome.status = early_data_status::accepted;
    else
        outcome.status = early_data_status::rejected_and_resent;
    return outcome;
}

action handshake_and_write_algorithm::resume(boost::system::error_code ec, std::size_t bytes)
{
    if (state_ == state::done)
        return ask(action::kind::done);
    if (ec)
        return finish(ec);
    switch (state_)
    {
    case state::start:
        reason_ = early_data_decision(ssl_, request_.view.size(), safety_);
        if (reason_ != not_attempted_reason::none)
        {
            state_ = state::handshaking;
            return ask(action::kind::handshake);
        }
        flight_ = make_first_flight(ssl_, request_.view, reason_, ec);
        if (ec)
            return finish(ec);
        flight_size_ = reason_ == not_attempted_reason::none ? flight_.size() : 0;
        state_ = state::writing_flight;
        return write_next_layer(flight_);
    case state::writing_flight:
        flight_ = {};
        state_ = state::handshaking;
        return ask(action::kind::handshake);
    case state::handshaking:
        // The family is read now, not before the first write: a next layer
        // that connects on its first write has no local endpoint until then.
        state_ = state::checking_family;
        return ask(action::kind::check_ipv6);
    case state::checking_family:
        outcome_ = make_outcome(ssl_, reason_, flight_size_, bytes != 0);
        if (outcome_.status == early_data_status::accepted)
            return finish({});
        state_ = state::writing_request;
        return write_through_stream(request_.view);
    case state::writing_request:
    case state::done:
        break;
    }
    return finish({});
}

action handshake_and_write_algorithm::finish(boost::system::error_code ec)
{
    if (ec)
        outcome_ = {};
    error_ = ec;
    state_ = state::done;
    return ask(action::kind::done);
}

// ---- server ----

action read_early_data_algorithm::resume(boost::system::error_code ec, std::size_t bytes)
{
    if (state_ == state::done)
        return ask(action::kind::done);
    if (ec)
        return finish(ec, 0);
    switch (state_)
    {
    case state::start:
        if (out_.size() == 0)
            return finish(boost::asio::error::invalid_argument, 0);
        flight_ = take_held_flight(ssl_);
        bios_ = memory_bios(ssl_);
        return step();
    case state::reading_header:
    {
        record_header header;
        std::copy_n(record_.begin(), header.size(), header.begin());
        const std::size_t body = record_body_size(header, ec);
        if (ec)
            return finish(ec, 0);
        record_.resize(header.size() + body);
        state_ = state::reading_body;
        return read_next_layer(action::kind::read_body, boost::asio::buffer(record_.data() + header.size(), body));
    }
    case state::reading_body:
        return step();
    case state::counting:
        // The flush rule: the flight goes out before any wait for the
        // client, but not before a record that is already here (early data
        // that came with the ClientHello), so that it can leave with the
        // answer to that data.
        return bytes >= header_size ? read_header() : flush();
    case state::flushing:
        flight_.clear();
        return phase_ended_ ? finish({}, 0) : read_header();
    case state::done:
        break;
    }
    return finish({}, 0);
}

// The record just read (or none, at the start) goes to OpenSSL, which reads
// early data into out_ and writes its flight.
action read_early_data_algorithm::step()
{
    bios_.feed(record_);
    record_.clear();
    ERR_clear_error();
    std::size_t n = 0;
    const int ret = SSL_read_early_data(ssl_, out_.data(), out_.size(), &n);
    bios_.drain_output(flight_);
    if (ret == SSL_READ_EARLY_DATA_ERROR && SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ)
        return finish(last_error(ssl_, ret), 0);
    // Records are fed one at a time and OpenSSL reads whole records, so
    // nothing may stay behind in the memory BIO when asio::ssl's own BIO comes
    // back: those bytes would be lost.
    if (bios_.input_left() != 0)
        return finish(boost::asio::ssl::error::unexpected_result, 0);
    switch (ret)
    {
    case SSL_READ_EARLY_DATA_SUCCESS:
        // The flight waits for the answer to join it (write_early_data), or
        // for the next read to send it.
        hold_flight(ssl_, std::move(flight_));
        return finish({}, n);
    case SSL_READ_EARLY_DATA_FINISH:
        phase_ended_ = true;
        return flight_.empty() ? finish({}, 0) : flush();
    default:
        if (flight_.empty())
            return read_header();
        state_ = state::counting;
        return ask(action::kind::count_readable);
    }
}

action read_early_data_algorithm::read_header()
{
    state_ = state::reading_header;
    record_.resize(header_size);
    return read_next_layer(action::kind::read_header, boost::asio::buffer(record_));
}

action read_early_data_algorithm::flush()
{
    state_ = state::flushing;
    return write_next_layer(flight_);
}

action read_early_data_algorithm::finish(boost::system::error_code ec, std::size_t n)
{
    bios_.restore();
    flight_ = {};
    record_ = {};
    error_ = ec;
    result_ = ec ? 0 : n;
    state_ = state::done;
    return ask(action::kind::done);
}

action write_early_data_algorithm::resume(boost::system::error_code ec, std::size_t)
{
    if (state_ == state::done)
        return ask(action::kind::done);
    if (ec)
        return finish(ec, 0);
    if (state_ == state::writing)
        return finish({}, data_.view.size());

    output_ = take_held_flight(ssl_);
    memory_bios bios(ssl_); // for this step only: the write to the next layer follows
    ERR_clear_error();
    std::size_t written = 0;
    const int ret = SSL_write_early_data(ssl_, data_.view.data(), data_.view.size(), &written);
    bios.drain_output(output_);
    if (ret != 1 || written != data_.view.size())
        return finish(ret != 1 ? last_error(ssl_, ret) : boost::asio::ssl::error::unexpected_result, 0);
    state_ = state::writing;
    return write_next_layer(output_);
}

action write_early_data_algorithm::finish(boost::system::error_code ec, std::size_t n)
{
    output_ = {};
    error_ = ec;
    result_ = ec ? 0 : n;
    state_ = state::done;
    return ask(action::kind::done);
}

} // namespace tfo::ssl::detail
