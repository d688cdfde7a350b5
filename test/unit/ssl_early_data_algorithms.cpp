//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The early-data algorithms (tfo/ssl/detail/early_data.hpp) without a
// socket: a real client and server, OpenSSL objects in memory, and this file
// as the driver. The records the server reads are scripted, and so is the
// answer to "is the next record here?", which decides whether the server's
// flight leaves before the next read.
//

#include <tfo/ssl/early_data.hpp>

#include <boost/test/unit_test.hpp>

#include "tls_identity.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_ssl_early_data_algorithms)

namespace asio = boost::asio;
using tfo::ssl::detail::action;
using tfo::ssl::detail::bytes;
using kind = action::kind;
using tfo::ssl::early_data_status;
using tfo::ssl::not_attempted_reason;
using tfo::ssl::replay_safety;
using tfo::ssl::detail::handshake_and_write_algorithm;
using tfo::ssl::detail::read_early_data_algorithm;
using tfo::ssl::detail::write_early_data_algorithm;

namespace {

struct ssl_deleter
{
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

// One end of a connection in memory. Its two memory BIOs stand for
// asio::ssl's BIO pair: what the algorithms must leave in place.
struct end_point
{
    ssl_ptr ssl;
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());

    end_point(asio::ssl::context& context, bool server) : ssl(SSL_new(context.native_handle()))
    {
        BIO_set_mem_eof_return(in, -1);
        SSL_set_bio(ssl.get(), in, out);
        server ? SSL_set_accept_state(ssl.get()) : SSL_set_connect_state(ssl.get());
    }

    void give(const bytes& b) { BIO_write(in, b.data(), static_cast<int>(b.size())); }

    bytes take()
    {
        char* data = nullptr;
        const long n = BIO_get_mem_data(out, &data);
        bytes b(data, data + std::max(n, 0L));
        (void)BIO_reset(out);
        return b;
    }

    bool bios_are_the_originals() const { return SSL_get_rbio(ssl.get()) == in && SSL_get_wbio(ssl.get()) == out; }
};

// Both handshakes to their end, through the ends' own BIOs (asio's
// handshake, in a stream).
bool complete_handshakes(end_point& client, end_point& server)
{
    for (int round = 0; round < 8; ++round)
    {
        const int c = SSL_do_handshake(client.ssl.get());
        server.give(client.take());
        const int s = SSL_do_handshake(server.ssl.get());
        client.give(server.take());
        if (c == 1 && s == 1)
            return true;
    }
    return false;
}

std::string read_plain(end_point& e)
{
    std::string got(256, '\0');
    const int n = SSL_read(e.ssl.get(), got.data(), static_cast<int>(got.size()));
    got.resize(std::max(n, 0));
    return got;
}

struct peers
{
    tfo::test::tls_identity id = tfo::test::make_tls_identity();
    asio::ssl::context server_ctx = tfo::test::make_server_context(id, 16384);
    asio::ssl::context client_ctx = tfo::test::make_client_context(id);

    // A ticket allowing early data, from a full handshake with `server_ctx`.
    SSL_SESSION* ticket()
    {
        end_point client(client_ctx, false);
        end_point server(server_ctx, true);
        BOOST_REQUIRE(complete_handshakes(client, server));
        read_plain(client); // takes the tickets in
        // Without a shutdown, OpenSSL forgets the session on both sides: the
        // client's is no longer resumable, and the server's cache, which
        // its anti-replay protection reads, drops it.
        SSL_shutdown(client.ssl.get());
        SSL_shutdown(server.ssl.get());
        SSL_SESSION* s = SSL_get1_session(client.ssl.get());
        BOOST_REQUIRE(SSL_SESSION_get_max_early_data(s) == 16384u);
        return s;
    }
};

// What the next layer holds and receives, as a driver would see it. The
// answer to count_readable is a script: the rest of the peer's bytes when
// the next record is "already here", nothing otherwise.
struct wire
{
    bytes from_peer;
    std::size_t consumed = 0;
    bytes to_peer;
    std::vector<bytes> writes;
    bool next_record_here = true;
    bool over_ipv6 = false;
    std::vector<kind> seen;

    std::size_t left() const { return from_peer.size() - consumed; }
    bytes rest() const { return {from_peer.begin() + static_cast<long>(consumed), from_peer.end()}; }
};

struct result
{
    boost::system::error_code ec;
    std::size_t bytes = 0;
};

// Performs one next-layer action as a driver would, over the wire.
result perform(const action& a, wire& w)
{
    w.seen.push_back(a.what);
    switch (a.what)
    {
    case kind::write:
    {
        const auto* p = static_cast<const unsigned char*>(a.out.data());
        w.writes.emplace_back(p, p + a.out.size());
        w.to_peer.insert(w.to_peer.end(), p, p + a.out.size());
        return {{}, a.out.size()};
    }
    case kind::read_header:
    case kind::read_body:
        if (w.left() < a.in.size())
            return {asio::error::eof, 0};
        std::copy_n(w.from_peer.begin() + static_cast<long>(w.consumed), a.in.size(),
                    static_cast<unsigned char*>(a.in.data()));
        w.consumed += a.in.size();
        return {{}, a.in.size()};
    case kind::count_readable:
        return {{}, w.next_record_here ? w.left() : 0};
    case kind::check_ipv6:
        return {{}, w.over_ipv6 ? 1u : 0u};
    case kind::handshake:
    case kind::write_stream:
    case kind::done:
        break;
    }
    BOOST_FAIL("not a next-layer action");
    return {};
}

// Runs a server algorithm to its end over the wire.
template <typename Algorithm>
void run(Algorithm& algorithm, wire& w)
{
    result r;
    for (int steps = 0; steps < 64; ++steps)
    {
        const action a = algorithm.resume(r.ec, r.bytes);
        if (a.what == kind::done)
            return;
        r = perform(a, w);
    }
    BOOST_FAIL("the algorithm did not end");
}

std::size_t count(const std::vector<kind>& seen, kind k)
{
    return static_cast<std::size_t>(std::count(seen.begin(), seen.end(), k));
}

bool is_handshake_record(const bytes& b)
{
    return b.size() > 5 && b[0] == 22 && b[1] == 3;
}

const std::string_view request = "GET /early\n";

// A client with a ticket, its first flight produced by the client algorithm.
struct early_client
{
    end_point end;
    handshake_and_write_algorithm algorithm;
    bytes first_flight;

    early_client(peers& p, SSL_SESSION* ticket)
        : end(p.client_ctx, false),
          algorithm(end.ssl.get(), tfo::ssl::detail::make_contiguous(asio::buffer(request)), replay_safety::safe)
    {
        SSL_set_session(end.ssl.get(), ticket);
        SSL_SESSION_free(ticket);
        const action a = algorithm.resume({}, 0);
        BOOST_REQUIRE((a.what == kind::write));
        const auto* data = static_cast<const unsigned char*>(a.out.data());
        first_flight.assign(data, data + a.out.size());
        BOOST_TEST(end.bios_are_the_originals());
        BOOST_REQUIRE((algorithm.resume({}, a.out.size()).what == kind::handshake));
    }
};

// A client with a ticket, its first flight on the wire to a server that
// reads it into `got`.
struct early_exchange
{
    peers p;
    early_client client{p, p.ticket()};
    end_point server{p.server_ctx, true};
    wire w;
    std::string got = std::string(64, '\0');

    early_exchange() { w.from_peer = client.first_flight; }
};

} // namespace

// The whole early exchange, with the next record already here each time the
// server asks: the flight is held until the answer joins it, one write; the
// phase ends on the client's EndOfEarlyData, and the handshake completes
// through the original BIOs.
BOOST_FIXTURE_TEST_CASE(the_flight_waits_for_a_record_already_here, early_exchange)
{
    read_early_data_algorithm read(server.ssl.get(), asio::buffer(got));
    run(read, w);
    BOOST_TEST(!read.error());
    BOOST_TEST(std::string_view(got).substr(0, read.result()) == request);
    BOOST_TEST(count(w.seen, kind::count_readable) >= 1u);
    BOOST_TEST(count(w.seen, kind::write) == 0u, "the flight is held");
    BOOST_TEST(server.bios_are_the_originals());

    // The answer: the held flight and the 0.5-RTT data in one write.
    const std::string answer = "early answer\n";
    write_early_data_algorithm write(server.ssl.get(), tfo::ssl::detail::make_contiguous(asio::buffer(answer)));
    run(write, w);
    BOOST_TEST(!write.error());
    BOOST_TEST(write.result() == answer.size());
    BOOST_REQUIRE(w.writes.size() == 1u);
    BOOST_TEST(is_handshake_record(w.writes[0]), "the ServerHello first");
    BOOST_TEST(server.bios_are_the_originals());

    // The client's handshake: EndOfEarlyData and Finished.
    client.end.give(w.to_peer);
    BOOST_REQUIRE(SSL_do_handshake(client.end.ssl.get()) == 1);
    w.from_peer = client.end.take();
    w.consumed = 0;
    w.seen.clear();

    // End of the early phase: 0, and nothing more to send.
    read_early_data_algorithm end(server.ssl.get(), asio::buffer(got));
    run(end, w);
    BOOST_TEST(!end.error());
    BOOST_TEST(end.result() == 0u);
    BOOST_TEST(w.writes.size() == 1u);
    BOOST_TEST(server.bios_are_the_originals());
    BOOST_TEST(w.left() > 0u, "the Finished is left for the stream's handshake");

    server.give(w.rest());
    BOOST_TEST(SSL_do_handshake(server.ssl.get()) == 1);
    BOOST_TEST(SSL_get_early_data_status(server.ssl.get()) == SSL_EARLY_DATA_ACCEPTED);

    // The client: accepted, so the request is not written again.
    const action a = client.algorithm.resume({}, 0);
    BOOST_REQUIRE((a.what == kind::check_ipv6));
    BOOST_TEST((client.algorithm.resume({}, 0).what == kind::done));
    const auto outcome = client.algorithm.result();
    BOOST_TEST(!client.algorithm.error());
    BOOST_TEST((outcome.status == early_data_status::accepted));
    BOOST_TEST(outcome.resumed);
    BOOST_TEST(outcome.first_flight_size == client.first_flight.size());
    BOOST_TEST(outcome.syn_data_limit == tfo::ssl::syn_data_limit_v4);
    BOOST_TEST(read_plain(client.end) == answer);
}

// The next record is not here: the flight leaves before the read that waits
// for it (the client cannot send its next record without it).
BOOST_FIXTURE_TEST_CASE(the_flight_leaves_before_a_wait, early_exchange)
{
    w.next_record_here = false;
    read_early_data_algorithm read(server.ssl.get(), asio::buffer(got));
    run(read, w);
    BOOST_TEST(!read.error());
    BOOST_TEST(std::string_view(got).substr(0, read.result()) == request);
    BOOST_REQUIRE(w.writes.size() == 1u);
    BOOST_TEST(is_handshake_record(w.writes[0]));
    // The write comes right after the question, and a read after it.
    const auto asked = std::find(w.seen.begin(), w.seen.end(), kind::count_readable);
    BOOST_REQUIRE((asked != w.seen.end() && asked + 2 < w.seen.end()));
    BOOST_TEST((asked[1] == kind::write));
    BOOST_TEST((asked[2] == kind::read_header));
    BOOST_TEST(count(w.seen, kind::count_readable) == 1u, "nothing held, nothing to ask");
}

// A flight held by one call leaves at the start of the next one when the
// client has nothing more to send: the held flight survives between calls.
BOOST_FIXTURE_TEST_CASE(a_held_flight_leaves_with_the_next_read, early_exchange)
{
    read_early_data_algorithm first(server.ssl.get(), asio::buffer(got));
    run(first, w);
    BOOST_REQUIRE(first.result() == request.size());
    BOOST_REQUIRE(w.writes.empty());

    w.next_record_here = false;
    w.seen.clear();
    read_early_data_algorithm second(server.ssl.get(), asio::buffer(got));
    run(second, w);
    BOOST_TEST((second.error() == asio::error::eof), "the script has nothing more");
    BOOST_REQUIRE(w.writes.size() == 1u);
    BOOST_TEST(is_handshake_record(w.writes[0]));
    BOOST_TEST((w.seen == std::vector<kind>{kind::count_readable, kind::write, kind::read_header}));
    BOOST_TEST(server.bios_are_the_originals());
}

// A server that cannot read the ticket (new ticket keys) refuses the early
// data: the phase ends on the ClientHello, the flight leaves at once, and
// the client writes the request again through the stream.
BOOST_AUTO_TEST_CASE(refused_early_data)
{
    peers p;
    early_client client(p, p.ticket());
    asio::ssl::context restarted = tfo::test::make_server_context(p.id, 16384);
    end_point server(restarted, true);

    wire w;
    w.from_peer = client.first_flight;
    std::string got(64, '\0');
    read_early_data_algorithm read(server.ssl.get(), asio::buffer(got));
    run(read, w);
    BOOST_TEST(!read.error());
    BOOST_TEST(read.result() == 0u);
    BOOST_TEST((w.seen == std::vector<kind>{kind::read_header, kind::read_body, kind::write}));
    BOOST_TEST(server.bios_are_the_originals());

    client.end.give(w.to_peer);
    server.give(w.rest()); // the refused early data, skipped by the handshake
    BOOST_REQUIRE(complete_handshakes(client.end, server));
    BOOST_TEST(SSL_get_early_data_status(server.ssl.get()) != SSL_EARLY_DATA_ACCEPTED);

    BOOST_REQUIRE((client.algorithm.resume({}, 0).what == kind::check_ipv6));
    const action again = client.algorithm.resume({}, 1);
    BOOST_REQUIRE((again.what == kind::write_stream));
    BOOST_TEST(std::string_view(static_cast<const char*>(again.out.data()), again.out.size()) == request);
    BOOST_TEST((client.algorithm.resume({}, again.out.size()).what == kind::done));
    const auto outcome = client.algorithm.result();
    BOOST_TEST((outcome.status == early_data_status::rejected_and_resent));
    BOOST_TEST(!outcome.resumed);
    BOOST_TEST(outcome.syn_data_limit == tfo::ssl::syn_data_limit_v6);
}

// Without a ticket the client does the handshake first and writes after it.
BOOST_AUTO_TEST_CASE(no_ticket_no_first_flight)
{
    peers p;
    end_point client(p.client_ctx, false);
    handshake_and_write_algorithm algorithm(client.ssl.get(), tfo::ssl::detail::make_contiguous(asio::buffer(request)),
                                            replay_safety::safe);
    BOOST_TEST((algorithm.resume({}, 0).what == kind::handshake));
    BOOST_TEST(client.take().empty(), "nothing produced before the handshake");
    BOOST_TEST((algorithm.resume({}, 0).what == kind::check_ipv6));
    BOOST_TEST((algorithm.resume({}, 0).what == kind::write_stream));
    BOOST_TEST((algorithm.result().reason == not_attempted_reason::no_ticket));
    BOOST_TEST((algorithm.result().status == early_data_status::not_attempted));
    BOOST_TEST((algorithm.resume({}, request.size()).what == kind::done));
    BOOST_TEST(!algorithm.error());
}

// An error of the next layer ends the client with a default outcome.
BOOST_AUTO_TEST_CASE(a_failed_write_ends_the_client)
{
    peers p;
    early_client client(p, p.ticket());
    BOOST_TEST((client.algorithm.resume(asio::error::connection_reset, 0).what == kind::done));
    BOOST_TEST((client.algorithm.error() == asio::error::connection_reset));
    BOOST_TEST((client.algorithm.result().status == early_data_status::not_attempted));
    BOOST_TEST(client.algorithm.result().first_flight_size == 0u);
}

BOOST_AUTO_TEST_CASE(an_empty_buffer_is_invalid)
{
    peers p;
    end_point server(p.server_ctx, true);
    read_early_data_algorithm read(server.ssl.get(), asio::mutable_buffer());
    BOOST_TEST((read.resume({}, 0).what == kind::done));
    BOOST_TEST((read.error() == asio::error::invalid_argument));
    BOOST_TEST(read.result() == 0u);
    BOOST_TEST(server.bios_are_the_originals());
}

// Plain HTTP to a TLS port: the header is refused before any body is read.
BOOST_AUTO_TEST_CASE(a_malformed_record_header)
{
    peers p;
    end_point server(p.server_ctx, true);
    wire w;
    const std::string_view http = "GET / HTTP/1.1\r\n\r\n";
    w.from_peer.assign(http.begin(), http.end());
    std::string got(64, '\0');
    read_early_data_algorithm read(server.ssl.get(), asio::buffer(got));
    run(read, w);
    BOOST_TEST((read.error() == asio::ssl::error::unexpected_result));
    BOOST_TEST(read.result() == 0u);
    BOOST_TEST((w.seen == std::vector<kind>{kind::read_header}));
    BOOST_TEST(server.bios_are_the_originals());
}

// An operation destroyed while it waits for a record, after its stream (a
// pending handler destroyed with its io_context): the memory BIOs go back
// into a live connection, which it keeps a reference to.
BOOST_AUTO_TEST_CASE(an_operation_outliving_its_stream)
{
    peers p;
    auto server = std::make_unique<end_point>(p.server_ctx, true);
    std::string got(64, '\0');
    auto read = std::make_unique<read_early_data_algorithm>(server->ssl.get(), asio::buffer(got));
    BOOST_TEST((read->resume({}, 0).what == kind::read_header));
    BOOST_TEST(!server->bios_are_the_originals());
    server.reset();
    read.reset(); // under ASan: no use after free, no leak
}

BOOST_AUTO_TEST_SUITE_END() // unit_ssl_early_data_algorithms
