//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Every way of stopping a connect, at every stage it can be in, with the
// hedge on and off: {terminal, partial, total, socket cancel(), close()} x
// {plain connect, cookie request, SYN with data, hedge racing (cookie
// request, SYN with data), writes}, through tfo::async_fastopen_connect and
// through tfo::fast_open_stream's first write. Each case runs in a namespace
// of its own; the stage is reached for real (SYNs dropped by nftables,
// which count them: the hedge's plain SYN is the second, a send buffer full)
// and the byte count is checked against what the server reads.
//
// What each promises: the operation honours terminal, partial and total
// while nothing of the data left the host, terminal and partial after
// (total cannot undo a SYN or a write), cancel() and close() always. The
// stream's first write honours terminal, cancel() and close() at once, and
// partial or total only once its connect is done. A request not honoured
// leaves the operation running; a terminal one then ends it.

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/fast_open_stream.hpp>
#include <tfo/path_memory.hpp>

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <optional>
#include <string>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(netns_cancellation_matrix)

namespace asio = boost::asio;
using asio::ip::tcp;
namespace ut = boost::unit_test;
using namespace tfo::test;
using namespace std::chrono_literals;

namespace {

enum class stage
{
    plain_connect,       // the client bit is off: an ordinary connect, its SYN dropped
    cookie_request,      // first contact: a SYN asking for a cookie, dropped
    syn_with_data,       // a cookie cached: the SYN carries the data, dropped
    hedge_racing_cookie, // the cookie request's hedge started, its plain SYN dropped too
    hedge_racing_data,   // the same with data in the SYN
    writes               // connected, writing what did not fit, the server not reading
};

enum class stop
{
    terminal,
    partial,
    total,
    cancel, // socket.cancel() / stream.cancel()
    close   // socket.close() / stream.close()
};

const char* name(stage s)
{
    switch (s)
    {
    case stage::plain_connect: return "plain connect";
    case stage::cookie_request: return "cookie request";
    case stage::syn_with_data: return "SYN with data";
    case stage::hedge_racing_cookie: return "hedge racing a cookie request";
    case stage::hedge_racing_data: return "hedge racing a SYN with data";
    case stage::writes: return "writes";
    }
    return "?";
}

const char* name(stop s)
{
    switch (s)
    {
    case stop::terminal: return "terminal";
    case stop::partial: return "partial";
    case stop::total: return "total";
    case stop::cancel: return "cancel()";
    case stop::close: return "close()";
    }
    return "?";
}

bool racing(stage s)
{
    return s == stage::hedge_racing_cookie || s == stage::hedge_racing_data;
}

bool data_left_the_host(stage s)
{
    return s == stage::syn_with_data || s == stage::hedge_racing_data || s == stage::writes;
}

asio::cancellation_type type_of(stop s)
{
    switch (s)
    {
    case stop::terminal: return asio::cancellation_type::terminal;
    case stop::partial: return asio::cancellation_type::partial;
    default: return asio::cancellation_type::total;
    }
}

// A namespace with a listener, and the destination brought to `s`'s
// starting point. The hedge, when on, starts 200 ms after the SYN, whatever
// the path's RTT, so that the stages before and after it are both reachable.
struct scenario
{
    scenario(stage s, bool hedge) : ns(s == stage::plain_connect ? 2 : 3)
    {
        tfo::path_memory_options o;
        o.hedge = hedge;
        o.hedge_min_delay = o.hedge_max_delay = o.hedge_default_delay = 200ms;
        memory.set_options(o);
        if (s == stage::syn_with_data || s == stage::hedge_racing_data || s == stage::writes)
        {
            const auto first = fastopen_once(acceptor, request); // the cookie
            BOOST_REQUIRE(!first.ec);
            BOOST_REQUIRE(first.counted.cookie_reqd == 1u);
        }
        payload = s == stage::writes ? random_bytes(32 << 20, 5) : request;
        if (s != stage::writes)
            private_netns::nft("table inet tfo_matrix { chain input { type filter hook input priority 0; "
                               "tcp dport " + std::to_string(acceptor.local_endpoint().port()) +
                               " tcp flags & (syn | ack) == syn counter drop; }; }");
    }

    // The SYNs dropped so far: the first (no retransmission before 1 s),
    // and the hedge's.
    static bool dropped_syns(int n)
    {
        return private_netns::run("nft list table inet tfo_matrix | grep -q 'packets " + std::to_string(n) + " '") ==
               0;
    }

    // Runs until the operation is at `s` (and still pending).
    void reach(stage s)
    {
        io.restart();
        if (s == stage::writes)
        {
            io.run_for(100ms);
            while (io.poll() > 0)
                ;
            return;
        }
        io.run_for(racing(s) ? 400ms : 60ms);
        if (racing(s))
            BOOST_REQUIRE_MESSAGE(dropped_syns(2), "the hedge is racing: its plain SYN was sent");
        else
            BOOST_REQUIRE_MESSAGE(dropped_syns(1), "one SYN is out, unanswered");
    }

    // What the server received, once the client's side is closed.
    std::size_t server_read()
    {
        const auto server = read_next_connection(acceptor);
        BOOST_TEST(server.info.syn_data_acked);
        BOOST_TEST((server.data == payload.substr(0, server.data.size())), "the data, in order");
        return server.data.size();
    }

    private_netns ns;
    asio::io_context io;
    tcp::acceptor acceptor = make_listener(io, tcp::v4(), 16);
    tfo::path_memory& memory = asio::use_service<tfo::path_memory>(io);
    std::string payload;
};

struct completion
{
    boost::system::error_code ec;
    std::size_t bytes = 0;
};

// Stops the pending operation as `how` says; `cancel` and `close` act on
// the I/O object.
template <typename Object>
void deliver(stop how, asio::cancellation_signal& signal, Object& object)
{
    if (how == stop::cancel)
        object.cancel();
    else if (how == stop::close)
        object.close();
    else
        signal.emit(type_of(how));
}

// After `how`: the operation ends at once, with operation_aborted, when the
// request is honoured; otherwise it runs on until a terminal request.
void expect_stopped(scenario& sc, std::optional<completion>& done, asio::cancellation_signal& signal, bool honoured)
{
    if (!honoured)
    {
        sc.io.restart();
        sc.io.run_for(200ms);
        BOOST_TEST(!done.has_value(), "a request that cannot be honoured is ignored");
        signal.emit(asio::cancellation_type::terminal);
    }
    sc.io.restart();
    sc.io.run_for(3s);
    BOOST_TEST_REQUIRE(done.has_value(), "the operation ended");
    BOOST_TEST((done->ec == asio::error::operation_aborted), done->ec.message());
}

void check_bytes(scenario& sc, stage s, const completion& done)
{
    if (s != stage::writes)
    {
        BOOST_TEST(done.bytes == 0u, "no SYN was answered: nothing was delivered");
        return;
    }
    BOOST_TEST(done.bytes > 0u);
    BOOST_TEST(done.bytes < sc.payload.size());
    BOOST_TEST(sc.server_read() == done.bytes, "bytes_written is what the server read");
}

const stage all_stages[] = {stage::plain_connect, stage::cookie_request,     stage::syn_with_data,
                            stage::hedge_racing_cookie, stage::hedge_racing_data, stage::writes};
const stop all_stops[] = {stop::terminal, stop::partial, stop::total, stop::cancel, stop::close};

template <typename Case>
void for_every_case(Case run_case)
{
    for (const stage s : all_stages)
        for (const bool hedge : {true, false})
        {
            if (racing(s) && !hedge)
                continue;
            for (const stop how : all_stops)
            {
                BOOST_TEST_CONTEXT(name(s) << ", " << name(how) << ", hedge " << (hedge ? "on" : "off"))
                {
                    scenario sc(s, hedge);
                    run_case(sc, s, how);
                }
            }
        }
}

} // namespace

BOOST_AUTO_TEST_SUITE(matrix, *ut::precondition(tfo::test::netns_available) * ut::timeout(240))

BOOST_AUTO_TEST_CASE(async_fastopen_connect_stops_at_every_stage)
{
    for_every_case([](scenario& sc, stage s, stop how) {
        tcp::socket client(sc.io);
        asio::cancellation_signal signal;
        std::optional<completion> done;
        tfo::async_fastopen_connect(client, sc.acceptor.local_endpoint(), asio::buffer(sc.payload),
                                    asio::bind_cancellation_slot(signal.slot(),
                                                                 [&](boost::system::error_code ec, std::size_t n) {
                                                                     done = completion{ec, n};
                                                                 }));
        sc.reach(s);
        BOOST_TEST_REQUIRE(!done.has_value());
        deliver(how, signal, client);
        const bool honoured = !(how == stop::total && data_left_the_host(s));
        expect_stopped(sc, done, signal, honoured);
        boost::system::error_code ignored;
        client.close(ignored); // what went out still reaches the server, then FIN
        check_bytes(sc, s, *done);
    });
}

BOOST_AUTO_TEST_CASE(fast_open_stream_first_write_stops_at_every_stage)
{
    for_every_case([](scenario& sc, stage s, stop how) {
        tfo::fast_open_stream stream(sc.io, sc.acceptor.local_endpoint());
        asio::cancellation_signal signal;
        std::optional<completion> done;
        stream.async_write_some(asio::buffer(sc.payload),
                                asio::bind_cancellation_slot(signal.slot(),
                                                             [&](boost::system::error_code ec, std::size_t n) {
                                                                 done = completion{ec, n};
                                                             }));
        sc.reach(s);
        BOOST_TEST_REQUIRE(!done.has_value());
        deliver(how, signal, stream);
        // The first write connects: only terminal interrupts it.
        const bool honoured = how != stop::partial && how != stop::total;
        expect_stopped(sc, done, signal, honoured);
        BOOST_TEST(!stream.is_connected());
        stream.close();
        check_bytes(sc, s, *done);
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // netns_cancellation_matrix
