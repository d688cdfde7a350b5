//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/ssl/early_data.hpp>

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace tfo::ssl {

std::string_view to_string(early_data_status s) noexcept
{
    switch (s)
    {
    case early_data_status::accepted:
        return "accepted";
    case early_data_status::rejected_and_resent:
        return "rejected and resent";
    case early_data_status::not_attempted:
        return "not attempted";
    }
    return "unknown";
}

std::string_view to_string(not_attempted_reason r) noexcept
{
    switch (r)
    {
    case not_attempted_reason::none:
        return "attempted";
    case not_attempted_reason::not_replay_safe:
        return "not replay-safe";
    case not_attempted_reason::no_ticket:
        return "no ticket";
    case not_attempted_reason::not_allowed:
        return "not allowed by the ticket";
    case not_attempted_reason::too_big:
        return "too big for the ticket";
    case not_attempted_reason::empty_request:
        return "empty request";
    }
    return "unknown";
}

void enable_early_data(boost::asio::ssl::context& context, std::uint32_t max_early_data, std::uint32_t receive_limit)
{
    // What tickets announce, and what the server reads off the wire: early
    // data it refuses is skipped up to the second limit, and a handshake
    // with more is aborted. A client may hold a ticket with an older, higher
    // announcement, so the second never drops with the first.
    SSL_CTX_set_max_early_data(context.native_handle(), max_early_data);
    SSL_CTX_set_recv_max_early_data(context.native_handle(), std::max(max_early_data, receive_limit));
}

namespace detail {
namespace {

struct session_deleter
{
    void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

// While alive, the connection reads from and writes to memory BIOs; the
// original BIOs (asio::ssl's BIO pair) come back on destruction. OpenSSL
// holds one reference per slot, even when both slots hold the same BIO (as
// asio's do), so each slot is swapped on its own with SSL_set0_*.
class memory_bios
{
public:
    explicit memory_bios(SSL* ssl) : ssl_(ssl)
    {
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

    ~memory_bios()
    {
        SSL_set0_rbio(ssl_, original_read_); // frees in_
        SSL_set0_wbio(ssl_, original_write_); // frees out_
    }

    memory_bios(const memory_bios&) = delete;
    memory_bios& operator=(const memory_bios&) = delete;

    void feed(std::span<const unsigned char> data)
    {
        if (!data.empty())
            BIO_write(in_, data.data(), static_cast<int>(data.size()));
    }

    std::size_t input_left() const { return BIO_ctrl_pending(in_); }

    void drain_output(bytes& to)
    {
        char* data = nullptr;
        const long n = BIO_get_mem_data(out_, &data);
        if (n > 0)
            to.insert(to.end(), data, data + n);
        (void)BIO_reset(out_);
    }

private:
    SSL* ssl_;
    BIO* original_read_ = nullptr;
    BIO* original_write_ = nullptr;
    BIO* in_ = nullptr;
    BIO* out_ = nullptr;
};

struct held_output
{
    bytes output;
};

void free_held(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*)
{
    delete static_cast<held_output*>(ptr);
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

} // namespace

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

early_read_result read_early_step(SSL* ssl, std::span<const unsigned char> record, boost::asio::mutable_buffer out,
                                  bytes& output, boost::system::error_code& ec)
{
    ec = {};
    memory_bios bios(ssl);
    bios.feed(record);
    ERR_clear_error();
    std::size_t n = 0;
    const int ret = SSL_read_early_data(ssl, out.data(), out.size(), &n);
    bios.drain_output(output);
    early_read_result result;
    switch (ret)
    {
    case SSL_READ_EARLY_DATA_SUCCESS:
        result = {early_read::data, n};
        break;
    case SSL_READ_EARLY_DATA_FINISH:
        result = {early_read::finished, 0};
        break;
    default:
        if (SSL_get_error(ssl, ret) != SSL_ERROR_WANT_READ)
        {
            ec = last_error(ssl, ret);
            return result;
        }
        result = {early_read::need_record, 0};
        break;
    }
    // Records are fed one at a time and OpenSSL reads whole records, so
    // nothing may stay behind in the memory BIO when asio::ssl's own BIO comes
    // back: those bytes would be lost.
    if (bios.input_left() != 0)
        ec = boost::asio::ssl::error::unexpected_result;
    return result;
}

void write_early_step(SSL* ssl, std::span<const unsigned char> data, bytes& output, boost::system::error_code& ec)
{
    ec = {};
    memory_bios bios(ssl);
    ERR_clear_error();
    std::size_t written = 0;
    const int ret = SSL_write_early_data(ssl, data.data(), data.size(), &written);
    bios.drain_output(output);
    if (ret != 1 || written != data.size())
        ec = ret != 1 ? last_error(ssl, ret) : boost::asio::ssl::error::unexpected_result;
}

bytes take_held_output(SSL* ssl)
{
    auto* held = static_cast<held_output*>(SSL_get_ex_data(ssl, held_index()));
    if (held == nullptr)
        return {};
    return std::exchange(held->output, {});
}

void hold_output(SSL* ssl, bytes output)
{
    auto* held = static_cast<held_output*>(SSL_get_ex_data(ssl, held_index()));
    if (held == nullptr)
    {
        if (output.empty())
            return;
        held = new held_output;
        SSL_set_ex_data(ssl, held_index(), held);
    }
    held->output = std::move(output);
}

} // namespace detail
} // namespace tfo::ssl
