//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-doctor: what is known about one destination
//

#include "destination.hpp"

#include <tfo/async_fastopen_connect.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <sstream>

namespace tfo::doctor {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Splits "host:port" and "[v6]:port".
bool split(const std::string& s, std::string& host, std::string& port)
{
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon + 1 == s.size())
        return false;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    return !host.empty();
}

std::string when(std::chrono::steady_clock::time_point t)
{
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(t - std::chrono::steady_clock::now());
    std::ostringstream out;
    out << "for " << left.count() << " s more";
    return out.str();
}

std::string quoted(const std::string& s)
{
    std::string out = "\"";
    for (char c : s)
    {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

} // namespace

destination_report examine_destination(const std::string& host_port, bool probe)
{
    destination_report r;
    r.destination = host_port;
    std::string host, port;
    if (!split(host_port, host, port))
    {
        r.error = "expected HOST:PORT";
        return r;
    }
    asio::io_context io;
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(host, port, ec);
    if (ec || results.empty())
    {
        r.error = "cannot resolve: " + (ec ? ec.message() : std::string("no address"));
        return r;
    }
    const tcp::endpoint endpoint = *results.begin();
    r.endpoint = (endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                             : endpoint.address().to_string()) +
                 ":" + std::to_string(endpoint.port());

    r.kernel = tfo::read_kernel_path_record(endpoint.address(), ec);
    if (ec)
        r.kernel_error = ec.message();

    // A fresh path memory, as in a new process: its first look reads the
    // kernel's record.
    auto& memory = asio::use_service<tfo::path_memory>(io);
    const bool fast_open = memory.use_deferred_connect(endpoint);
    if (probe && fast_open)
    {
        // A connect with the Fast Open option and no data: nothing reaches
        // the server's application, and the SYN's fate is recorded.
        memory.forget(endpoint); // the look above was an advice, not an attempt
        tcp::socket socket(io);
        const auto start = std::chrono::steady_clock::now();
        boost::system::error_code result;
        tfo::async_fastopen_connect(socket, endpoint, asio::const_buffer(),
                                    [&](boost::system::error_code e, std::size_t) { result = e; });
        io.run_for(std::chrono::seconds(10));
        r.probed = true;
        r.probe_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        r.probe_result = io.stopped() ? (result ? result.message() : "connected") : "no answer in 10 s";
        r.kernel = tfo::read_kernel_path_record(endpoint.address(), ec);
    }
    else if (probe)
    {
        r.probe_result = "not probed: Fast Open is off for this destination";
    }
    r.state = memory.state(endpoint);
    r.counters = memory.counters();
    return r;
}

std::string to_text(const destination_report& r)
{
    std::ostringstream out;
    out << "Destination " << r.destination;
    if (!r.error.empty())
    {
        out << ": " << r.error << "\n";
        return out.str();
    }
    out << " (" << r.endpoint << ")\n";
    out << "  kernel tcp_metrics: ";
    if (!r.kernel_error.empty())
        out << "unavailable (" << r.kernel_error << ")\n";
    else if (!r.kernel.found)
        out << "no entry (this host has not connected there since the entry expired)\n";
    else
    {
        out << (r.kernel.cookie_length ? "cookie held (" + std::to_string(r.kernel.cookie_length) + " bytes)"
                                       : std::string("no cookie"))
            << ", fo_mss " << r.kernel.fo_mss << ", SYN drops " << r.kernel.syn_drops;
        if (r.kernel.syn_drop_age.count() >= 0)
            out << " (last " << r.kernel.syn_drop_age.count() / 1000.0 << " s ago)";
        if (r.kernel.rtt.count() > 0)
            out << ", rtt " << r.kernel.rtt.count() / 1000.0 << " ms";
        out << ", updated " << r.kernel.age.count() / 1000.0 << " s ago\n";
    }
    if (r.probed || !r.probe_result.empty())
        out << "  live probe: " << r.probe_result
            << (r.probed ? " after " + std::to_string(static_cast<long>(r.probe_ms)) + " ms" : std::string()) << "\n";
    const auto& s = r.state;
    out << "  path memory: Fast Open " << (s.fast_open ? (s.probing ? "on probation" : "on") : "off");
    if (!s.fast_open)
        out << " " << when(s.off_until);
    if (s.reason != tfo::path_reason::none)
        out << " (" << tfo::to_string(s.reason) << ")";
    out << "; losses " << s.losses << ", refusals " << s.refusals << ", probes " << s.probes << ", successes "
        << s.successes << (s.kernel_seeded ? ", seeded from the kernel" : "") << "\n";
    const auto& c = r.counters;
    out << "  counters: attempts " << c.attempts << ", plain " << c.plain << ", successes " << c.successes
        << ", losses " << c.losses << ", refusals " << c.refusals << ", resets " << c.resets << ", probes "
        << c.probes << ", hedges started " << c.hedges_started << ", won " << c.hedges_won << "\n";
    return out.str();
}

std::string to_json(const destination_report& r)
{
    std::ostringstream out;
    const auto& k = r.kernel;
    const auto& s = r.state;
    const auto& c = r.counters;
    out << "{\"destination\":" << quoted(r.destination) << ",\"error\":" << quoted(r.error)
        << ",\"endpoint\":" << quoted(r.endpoint) << ",\"kernel\":{\"error\":" << quoted(r.kernel_error)
        << ",\"found\":" << (k.found ? "true" : "false") << ",\"cookie_length\":" << k.cookie_length
        << ",\"fo_mss\":" << k.fo_mss << ",\"syn_drops\":" << k.syn_drops
        << ",\"syn_drop_age_ms\":" << k.syn_drop_age.count() << ",\"rtt_us\":" << k.rtt.count()
        << ",\"age_ms\":" << k.age.count() << "},\"probe\":{\"ran\":" << (r.probed ? "true" : "false")
        << ",\"result\":" << quoted(r.probe_result) << ",\"ms\":" << r.probe_ms << "}"
        << ",\"path_memory\":{\"fast_open\":" << (s.fast_open ? "true" : "false")
        << ",\"probing\":" << (s.probing ? "true" : "false") << ",\"reason\":" << quoted(std::string(to_string(s.reason)))
        << ",\"off_for_ms\":"
        << (s.fast_open ? 0
                        : std::chrono::duration_cast<std::chrono::milliseconds>(s.off_until -
                                                                                std::chrono::steady_clock::now())
                              .count())
        << ",\"losses\":" << s.losses << ",\"refusals\":" << s.refusals << ",\"probes\":" << s.probes
        << ",\"successes\":" << s.successes << "},\"counters\":{\"attempts\":" << c.attempts
        << ",\"plain\":" << c.plain << ",\"successes\":" << c.successes << ",\"losses\":" << c.losses
        << ",\"refusals\":" << c.refusals << ",\"resets\":" << c.resets << ",\"probes\":" << c.probes
        << ",\"hedges_started\":" << c.hedges_started << ",\"hedges_won\":" << c.hedges_won
        << ",\"kernel_reads\":" << c.kernel_reads << "}}\n";
    return out.str();
}

} // namespace tfo::doctor
