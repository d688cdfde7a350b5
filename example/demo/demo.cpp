//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo demo: TCP Fast Open, seen working.
//
// Runs a server and a client in a private network namespace with
// net.ipv4.tcp_fastopen=3, makes a few connections with
// tfo::async_fastopen_connect, and prints what the kernel says about each:
// the first asks for a cookie, the next carry the request in the SYN.
// Exits non-zero if TFO did not happen where it should have.
//
// Usage: demo [--connections N]
//

#include <tfo/tfo.hpp>

#include <tfo/netns/private_netns.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct row
{
    bool cookie_requested = false;
    bool data_in_syn = false;
    std::size_t queued_at_accept = 0;
    double reply_us = 0;
    tfo::client_failure failure = tfo::client_failure::unspecified;
};

struct accepted
{
    std::size_t readable_at_accept = 0;
    bool syn_data_acked = false;
};

const std::string request = "GET /hello HTTP/1.0\r\n\r\n";

// Answers each request with a one-line reply, noting what the SYN brought.
asio::awaitable<void> serve(tcp::acceptor& acceptor, std::vector<accepted>& log)
{
    for (;;)
    {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        accepted a;
        a.readable_at_accept = socket.available();
        a.syn_data_acked = tfo::get_fast_open_info(socket).syn_data_acked;
        log.push_back(a);
        std::string in;
        co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n", asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer(std::string("hello from the server\n")), asio::use_awaitable);
    }
}

asio::awaitable<void> run_clients(tcp::endpoint server, int count, std::vector<accepted>& server_log,
                                  std::vector<row>& rows)
{
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < count; ++i)
    {
        const auto before = tfo::kernel_counters();
        const auto t0 = std::chrono::steady_clock::now();
        tcp::socket socket(ex);
        co_await tfo::async_fastopen_connect(socket, server, asio::buffer(request), asio::use_awaitable);
        std::string reply;
        co_await asio::async_read_until(socket, asio::dynamic_buffer(reply), '\n', asio::use_awaitable);
        const auto t1 = std::chrono::steady_clock::now();
        const auto info = tfo::get_fast_open_info(socket);
        const auto counted = tfo::kernel_counters() - before;

        // Data in the SYN only on the kernel's word, from both ends and both
        // counters: the client's SYN data was acknowledged (Active), the
        // listener took it (Passive), and TCP_INFO says so on each socket.
        row r;
        r.cookie_requested = counted.cookie_reqd > 0;
        r.data_in_syn = counted.active == 1 && counted.passive == 1 && info.syn_data_acked && !server_log.empty() &&
                        server_log.back().syn_data_acked;
        r.queued_at_accept = server_log.empty() ? 0 : server_log.back().readable_at_accept;
        r.reply_us = std::chrono::duration<double, std::micro>(t1 - t0).count();
        r.failure = info.failure;
        rows.push_back(r);
    }
}

void print_counters(const char* when, const tfo::fast_open_counters& c)
{
    std::printf("  %-7s", when);
    for (const auto& counter : tfo::fast_open_counter_table)
    {
        // "TCPFastOpenActive" prints as "Active".
        const auto name = counter.kernel_name.substr(std::string_view("TCPFastOpen").size());
        std::printf(" %.*s %llu", static_cast<int>(name.size()), name.data(),
                    static_cast<unsigned long long>(c.*counter.member));
    }
    std::printf("\n");
}

std::string describe_host(const tfo::fast_open_support& s)
{
    std::string text = "This host's own net.ipv4.tcp_fastopen is " + std::to_string(s.value) + ": ";
    text += s.client_enabled() ? "its clients may send data in the SYN" : "its clients never send data in the SYN";
    // Bit 0x400 alone does nothing: servers need 0x2 in any case.
    text += s.server_enabled() ? ", and its servers with tfo::fast_open accept it."
                               : ", but its servers will not accept it (set bit 0x2, e.g. the value 3, to enable).";
    return text;
}

} // namespace

int main(int argc, char** argv)
{
    int count = 4;
    for (int i = 1; i < argc; ++i)
    {
        if (std::strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
            count = std::max(2, std::atoi(argv[++i]));
        else
        {
            std::cerr << "usage: demo [--connections N]\n";
            return 2;
        }
    }

    // Read the host's setting before leaving its namespace.
    boost::system::error_code ec;
    const auto host = tfo::system_support(ec);
    const std::string host_line = ec ? "This host's tcp_fastopen setting is unknown: " + ec.message()
                                     : describe_host(host);

    try
    {
        tfo::netns::private_netns ns(3);
        asio::io_context io;
        tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
        acceptor.set_option(tfo::fast_open{16}); // the one line a server adds

        std::vector<accepted> server_log;
        std::vector<row> rows;
        const auto before = tfo::kernel_counters();
        asio::co_spawn(io, serve(acceptor, server_log), asio::detached);
        asio::co_spawn(io, run_clients(acceptor.local_endpoint(), count, server_log, rows),
                       [&](std::exception_ptr e) {
                           acceptor.close();
                           if (e)
                               std::rethrow_exception(e);
                       });
        io.run();
        const auto after = tfo::kernel_counters();

        std::printf("TCP Fast Open in a private network namespace (tcp_fastopen=3), %d connections to 127.0.0.1\n\n",
                    count);
        std::printf("  #  cookie requested  data in SYN  queued at accept  reply (us)  note\n");
        bool ok = true;
        for (std::size_t i = 0; i < rows.size(); ++i)
        {
            const row& r = rows[i];
            std::string note = r.data_in_syn ? "request rode in the SYN"
                                             : std::string("fallback: ") + std::string(tfo::to_string(r.failure));
            if (i == 0 && r.cookie_requested)
                note = "first contact: the SYN asked for a cookie";
            std::printf("  %-2zu %-17s %-12s %-17zu %-11.0f %s\n", i + 1, r.cookie_requested ? "yes" : "no",
                        r.data_in_syn ? "yes" : "no", r.queued_at_accept, r.reply_us, note.c_str());
            const bool expected = i == 0 ? r.cookie_requested && !r.data_in_syn : r.data_in_syn;
            ok = ok && expected;
        }
        std::printf("\n  data in SYN: the kernel's word, from TCP_INFO on both sockets and the Active and Passive\n"
                    "  counters. queued at accept: request bytes already readable when accept() returned; an\n"
                    "  ordinary handshake can show them too, so this column alone proves nothing.\n");
        std::printf("\nKernel counters of the namespace (TcpExt TCPFastOpen*):\n");
        print_counters("before", before);
        print_counters("after", after);
        std::printf("\n%s\n", host_line.c_str());
        if (!ok)
        {
            std::printf("\nFAILED: TCP Fast Open did not happen where it should have.\n");
            return 1;
        }
        std::printf("\nOK: after the first connection fetched a cookie, every request rode in the SYN.\n");
        return 0;
    }
    catch (const std::exception& e)
    {
        std::cerr << "demo: " << e.what() << '\n' << host_line << '\n';
        return 2;
    }
}
