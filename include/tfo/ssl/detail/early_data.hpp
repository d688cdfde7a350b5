//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The OpenSSL side of early data, without I/O: the operations in
// impl/early_data.hpp move the bytes these functions produce and consume.
// Included by tfo/ssl/early_data.hpp, after the types it uses.
//

#ifndef TFO_SSL_DETAIL_EARLY_DATA_HPP
#define TFO_SSL_DETAIL_EARLY_DATA_HPP

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace tfo::ssl::detail {

using bytes = std::vector<unsigned char>;

/// Copies a buffer sequence into one contiguous block (OpenSSL writes from one).
template <typename ConstBufferSequence>
bytes flatten(const ConstBufferSequence& buffers)
{
    bytes out(boost::asio::buffer_size(buffers));
    boost::asio::buffer_copy(boost::asio::buffer(out), buffers);
    return out;
}

/// The error of a failed OpenSSL call, in Asio's SSL category; OpenSSL's
/// error queue is emptied.
boost::system::error_code last_error(SSL* ssl, int ret);

// ---- client ----

/// Whether a request may go early on this connection, and why not.
not_attempted_reason early_data_decision(SSL* ssl, std::size_t request_size, replay_safety safety);

/// Produces the first flight, the ClientHello plus `request` as early data,
/// with the connection's BIOs swapped for memory BIOs, and restores them.
/// Where OpenSSL refuses early data that `early_data_decision` cannot
/// foresee (the ticket's ALPN protocol is not among those the connection
/// offers), the flight is a ClientHello that resumes without early data,
/// and `reason` becomes `not_allowed`.
bytes make_first_flight(SSL* ssl, std::span<const unsigned char> request, not_attempted_reason& reason,
                        boost::system::error_code& ec);

/// The outcome once the handshake is done; `syn_data_limit` from the family.
early_data_outcome make_outcome(SSL* ssl, not_attempted_reason reason, std::size_t first_flight_size, bool v6);

// ---- server ----

/// The five bytes before every TLS record; `record_body_size` reads its
/// length (RFC 8446, section 5.1) and rejects what no TLS peer sends.
using record_header = std::array<unsigned char, 5>;
std::size_t record_body_size(const record_header& header, boost::system::error_code& ec);

enum class early_read
{
    data,       // early data was read
    finished,   // no more early data: complete the handshake
    need_record // feed the next record
};

struct early_read_result
{
    early_read what = early_read::need_record;
    std::size_t bytes = 0;
};

/// One step of the server's early phase: `record` (a whole TLS record, or
/// nothing) is given to OpenSSL, `SSL_read_early_data` reads into `out`, and
/// what the server writes (its handshake flight) is appended to `output`.
early_read_result read_early_step(SSL* ssl, std::span<const unsigned char> record, boost::asio::mutable_buffer out,
                                  bytes& output, boost::system::error_code& ec);

/// Encrypts `data` as 0.5-RTT data (`SSL_write_early_data` on a server),
/// appending the records to `output`.
void write_early_step(SSL* ssl, std::span<const unsigned char> data, bytes& output, boost::system::error_code& ec);

/// The server's handshake output held between operations (see
/// `async_read_early_data`), kept with the connection: `take_held_output`
/// empties it.
bytes take_held_output(SSL* ssl);
void hold_output(SSL* ssl, bytes output);

} // namespace tfo::ssl::detail

#endif
