//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Early data without I/O: three resumable algorithms, one per public
// operation, in Boost.MySQL's shape. `resume(ec, bytes)` takes the result of
// the last action and returns the next one; the drivers in
// detail/early_data_driver.hpp only perform actions. Every decision (what to
// read, when the server's flight leaves, when the phase ends, the outcome)
// is taken here, so the async and the sync forms cannot drift apart and the
// unit tests drive the algorithms with scripted records.
// Included by tfo/ssl/early_data.hpp, after the types it uses.
//

#ifndef TFO_SSL_DETAIL_EARLY_DATA_HPP
#define TFO_SSL_DETAIL_EARLY_DATA_HPP

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace tfo::ssl::detail {

using bytes = std::vector<unsigned char>;

/// A buffer sequence as one contiguous block (OpenSSL reads from one): the
/// caller's memory when the sequence holds one buffer, a copy otherwise.
/// `view` stays valid when the object moves (a vector's storage stays put).
struct contiguous_bytes
{
    bytes copy;
    std::span<const unsigned char> view;
};

template <typename ConstBufferSequence>
contiguous_bytes make_contiguous(const ConstBufferSequence& buffers)
{
    contiguous_bytes out;
    const auto begin = boost::asio::buffer_sequence_begin(buffers);
    const auto end = boost::asio::buffer_sequence_end(buffers);
    std::size_t non_empty = 0;
    boost::asio::const_buffer only;
    for (auto it = begin; it != end; ++it)
    {
        const boost::asio::const_buffer b(*it);
        if (b.size() != 0 && non_empty++ == 0)
            only = b;
    }
    if (non_empty <= 1)
    {
        out.view = {static_cast<const unsigned char*>(only.data()), only.size()};
        return out;
    }
    out.copy.resize(boost::asio::buffer_size(buffers));
    boost::asio::buffer_copy(boost::asio::buffer(out.copy), buffers);
    out.view = out.copy;
    return out;
}

/// The first non-empty buffer of a sequence (a read fills one, as `read_some`).
template <typename MutableBufferSequence>
boost::asio::mutable_buffer first_buffer(const MutableBufferSequence& buffers)
{
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
    {
        const boost::asio::mutable_buffer b(*it);
        if (b.size() != 0)
            return b;
    }
    return {};
}

/// The error of a failed OpenSSL call, in Asio's SSL category; OpenSSL's
/// error queue is emptied.
boost::system::error_code last_error(SSL* ssl, int ret);

/// Whether a request may go early on this connection, and why not.
not_attempted_reason early_data_decision(SSL* ssl, std::size_t request_size, replay_safety safety);

/// The five bytes before every TLS record; `record_body_size` reads its
/// length (RFC 8446, section 5.1) and rejects what no TLS peer sends.
using record_header = std::array<unsigned char, 5>;
std::size_t record_body_size(const record_header& header, boost::system::error_code& ec);

/// While it holds a connection, the connection reads from and writes to two
/// memory BIOs; the original BIOs (asio::ssl's BIO pair) come back with
/// `restore`, on destruction at the latest. It keeps a reference to the
/// connection, so that an operation destroyed after its stream (a pending
/// handler destroyed with its io_context) restores into a live object.
class memory_bios
{
public:
    memory_bios() noexcept = default;
    explicit memory_bios(SSL* ssl);
    memory_bios(memory_bios&& other) noexcept;
    memory_bios& operator=(memory_bios&& other) noexcept;
    ~memory_bios() { restore(); }

    void restore() noexcept;
    bool installed() const noexcept { return ssl_ != nullptr; }

    void feed(std::span<const unsigned char> data);
    std::size_t input_left() const;
    void drain_output(bytes& to);

private:
    SSL* ssl_ = nullptr;
    BIO* original_read_ = nullptr;
    BIO* original_write_ = nullptr;
    BIO* in_ = nullptr;
    BIO* out_ = nullptr;
};

/// What a driver does next for an algorithm, and how it resumes it.
struct action
{
    enum class kind : std::uint8_t
    {
        write,          // write all of `out` to the next layer; resume with (ec, n)
        read_header,    // read exactly `in`, a record header, from the next layer; (ec, n)
        read_body,      // read exactly `in`, the record's body, from the next layer; (ec, n)
        count_readable, // no I/O: resume with the bytes the lowest layer holds now
        check_ipv6,     // no I/O: resume with 1 when the connection runs over IPv6, else 0
        handshake,      // the stream's ordinary client handshake; (ec)
        write_stream,   // write all of `out` through the ssl stream; (ec, n)
        done            // error() and result() are final
    };

    kind what = kind::done;
    boost::asio::const_buffer out;
    boost::asio::mutable_buffer in;
};

/// The client: the first flight (ClientHello and the request as early data)
/// written to the next layer, the stream's handshake, and the request again
/// through the stream unless the server accepted it early. Without early
/// data: the handshake, then the request.
class handshake_and_write_algorithm
{
public:
    using result_type = early_data_outcome;

    handshake_and_write_algorithm(SSL* ssl, contiguous_bytes request, replay_safety safety) noexcept
        : ssl_(ssl), request_(std::move(request)), safety_(safety)
    {
    }

    action resume(boost::system::error_code ec, std::size_t bytes);
    boost::system::error_code error() const noexcept { return error_; }
    early_data_outcome result() const noexcept { return outcome_; }

private:
    enum class state : std::uint8_t
    {
        start,
        writing_flight,
        handshaking,
        checking_family,
        writing_request,
        done
    };

    action finish(boost::system::error_code ec);

    SSL* ssl_;
    contiguous_bytes request_;
    replay_safety safety_;
    state state_ = state::start;
    not_attempted_reason reason_ = not_attempted_reason::none;
    bytes flight_;
    std::size_t flight_size_ = 0;
    early_data_outcome outcome_;
    boost::system::error_code error_;
};

/// The server's early phase, one call of `read_early_data`: one whole TLS
/// record at a time from the next layer into OpenSSL, until early data
/// comes out or the phase ends. Holds the memory BIOs from its first step
/// to its last: records go in, the server's flight comes out.
class read_early_data_algorithm
{
public:
    using result_type = std::size_t;

    read_early_data_algorithm(SSL* ssl, boost::asio::mutable_buffer out) noexcept : ssl_(ssl), out_(out) {}

    action resume(boost::system::error_code ec, std::size_t bytes);
    boost::system::error_code error() const noexcept { return error_; }
    std::size_t result() const noexcept { return result_; }

private:
    enum class state : std::uint8_t
    {
        start,
        reading_header,
        reading_body,
        counting,
        flushing,
        done
    };

    action step();
    action read_header();
    action flush();
    action finish(boost::system::error_code ec, std::size_t n);

    SSL* ssl_;
    boost::asio::mutable_buffer out_;
    state state_ = state::start;
    bool phase_ended_ = false;
    memory_bios bios_;
    bytes record_; // the record being read: header, then body
    bytes flight_; // what the server wrote and has not yet sent
    boost::system::error_code error_;
    std::size_t result_ = 0;
};

/// The server's 0.5-RTT answer: the held flight and the answer, encrypted
/// as early data, in one write to the next layer.
class write_early_data_algorithm
{
public:
    using result_type = std::size_t;

    write_early_data_algorithm(SSL* ssl, contiguous_bytes data) noexcept : ssl_(ssl), data_(std::move(data)) {}

    action resume(boost::system::error_code ec, std::size_t bytes);
    boost::system::error_code error() const noexcept { return error_; }
    std::size_t result() const noexcept { return result_; }

private:
    enum class state : std::uint8_t
    {
        start,
        writing,
        done
    };

    action finish(boost::system::error_code ec, std::size_t n);

    SSL* ssl_;
    contiguous_bytes data_;
    state state_ = state::start;
    bytes output_;
    boost::system::error_code error_;
    std::size_t result_ = 0;
};

/// The outcome once the handshake is done; `syn_data_limit` from the family.
early_data_outcome make_outcome(SSL* ssl, not_attempted_reason reason, std::size_t first_flight_size, bool v6);

} // namespace tfo::ssl::detail

#endif
