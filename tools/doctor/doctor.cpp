//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-doctor: why is TCP Fast Open not happening here?
//

#include "doctor.hpp"

#include <tfo/netns/private_netns.hpp>
#include <tfo/netns/raw_client.hpp>

#include <tfo/fast_open_info.hpp>
#include <tfo/socket_options.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tfo::doctor {
namespace {

std::optional<std::string> read_text(const char* path)
{
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        return std::nullopt;
    return ss.str();
}

std::optional<std::string> namespace_id(const char* path)
{
    char buf[64] = {};
    const ssize_t n = ::readlink(path, buf, sizeof buf - 1);
    if (n <= 0)
        return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
}

// net.ipv4.tcp_fastopen_key reads as "xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx"
// for the primary key, then ",..." for a backup; only the primary counts here.
std::vector<unsigned char> parse_key_text(const std::string& text)
{
    std::vector<unsigned char> key;
    int high_nibble = -1;
    for (char c : text.substr(0, text.find(',')))
    {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isxdigit(u))
            continue;
        const int v = std::isdigit(u) ? c - '0' : std::tolower(u) - 'a' + 10;
        if (high_nibble < 0)
            high_nibble = v;
        else
        {
            key.push_back(static_cast<unsigned char>(high_nibble << 4 | v));
            high_nibble = -1;
        }
    }
    return key;
}

// The self-test runs in a child process so that this process stays in the
// namespace it is diagnosing. The child reports one line through a pipe.
self_test run_self_test()
{
    self_test result;
    if (auto why = tfo::netns::unavailable_reason())
    {
        result.skipped_because = "no private network namespace: " + *why;
        return result;
    }
    int fds[2];
    if (::pipe(fds) != 0)
    {
        result.skipped_because = std::string("pipe: ") + std::strerror(errno);
        return result;
    }
    const pid_t pid = ::fork();
    if (pid < 0)
    {
        result.skipped_because = std::string("fork: ") + std::strerror(errno);
        return result;
    }
    if (pid == 0)
    {
        ::close(fds[0]);
        std::string line;
        try
        {
            namespace asio = boost::asio;
            using asio::ip::tcp;
            tfo::netns::private_netns ns(3);
            asio::io_context io;
            tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
            acceptor.set_option(tfo::fast_open{4});
            const std::string ping = "tfo-doctor self-test";
            bool cookie = false, data = false;
            for (int i = 0; i < 2; ++i)
            {
                const auto before = tfo::kernel_counters();
                boost::system::error_code ec;
                tcp::socket client = tfo::netns::raw_fastopen_client(io, acceptor.local_endpoint(), ping, ec);
                if (ec)
                    throw std::runtime_error("sendto(MSG_FASTOPEN): " + ec.message());
                tcp::socket server = acceptor.accept();
                std::string got(ping.size(), '\0');
                asio::read(server, asio::buffer(got));
                const auto counted = tfo::kernel_counters() - before;
                if (i == 0)
                    cookie = counted.cookie_reqd == 1;
                else
                    data = counted.active == 1 && counted.passive == 1 &&
                           tfo::get_fast_open_info(client).syn_data_acked &&
                           tfo::get_fast_open_info(server).syn_data_acked && got == ping;
            }
            line = std::string("ran ") + (cookie ? "1" : "0") + (data ? "1" : "0") + "\n";
        }
        catch (const std::exception& e)
        {
            line = std::string("error ") + e.what() + "\n";
        }
        [[maybe_unused]] auto n = ::write(fds[1], line.data(), line.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string line;
    pollfd p{fds[0], POLLIN, 0};
    char buf[512];
    while (::poll(&p, 1, 10000) > 0)
    {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0)
            break;
        line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    ::kill(pid, SIGKILL); // harmless if it already exited
    ::waitpid(pid, nullptr, 0);
    if (line.rfind("ran ", 0) == 0 && line.size() >= 6)
    {
        result.ran = true;
        result.cookie_requested = line[4] == '1';
        result.data_in_syn = line[5] == '1';
        if (!result.data_in_syn)
            result.error = result.cookie_requested ? "the second connection carried no data in its SYN"
                                                   : "the first connection asked for no cookie";
    }
    else if (line.rfind("error ", 0) == 0)
    {
        result.ran = true;
        result.error = line.substr(6, line.size() - 7);
    }
    else
        result.skipped_because = "the self-test did not answer within 10 s";
    return result;
}

std::string json_escape(const std::string& s)
{
    std::string out;
    for (char c : s)
    {
        switch (c)
        {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20)
            {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            }
            else
                out += c;
        }
    }
    return out;
}

const char* severity_name(severity s)
{
    switch (s)
    {
    case severity::ok: return "ok";
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::problem: return "problem";
    }
    return "?";
}

} // namespace

std::string fingerprint(const std::vector<unsigned char>& key)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(key.data(), key.size(), digest);
    char hex[17];
    for (int i = 0; i < 8; ++i)
        std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return hex;
}

facts gather(std::optional<int> expected, bool run_live_test)
{
    facts f;
    f.expected = expected;
    boost::system::error_code ec;
    auto support = system_support(ec);
    if (ec)
        f.support_error = ec.message();
    else
        f.support = support;

    auto self = namespace_id("/proc/thread-self/ns/net");
    auto init = namespace_id("/proc/1/ns/net");
    if (self && init)
        f.own_namespace = *self != *init;

    if (auto text = read_text("/proc/sys/net/ipv4/tcp_fastopen_blackhole_timeout_sec"))
        f.blackhole_timeout_sec = std::atoi(text->c_str());

    auto counters = kernel_counters(ec);
    if (ec)
        f.counters_error = ec.message();
    else
        f.counters = counters;

    if (auto text = read_text("/proc/sys/net/ipv4/tcp_fastopen_key"))
    {
        const auto key = parse_key_text(*text);
        const bool all_zero = std::all_of(key.begin(), key.end(), [](unsigned char b) { return b == 0; });
        if (key.size() != 16)
            f.key_status = "unreadable (unexpected format)";
        else if (all_zero)
            f.key_status = "not generated yet (made on first use)";
        else
        {
            f.key_status = "set";
            f.key_fingerprint = fingerprint(key);
        }
    }
    else
        f.key_status = "unreadable (needs root)";

    auto multipath = system_multipath_support(ec);
    if (ec)
        f.multipath_error = ec.message();
    else
        f.multipath = multipath;
    auto multipath_counts = kernel_multipath_counters(ec);
    if (!ec)
        f.multipath_counts = multipath_counts;

    if (run_live_test)
        f.live = run_self_test();
    else
        f.live.skipped_because = "not requested (--no-self-test)";
    return f;
}

std::optional<int> parse_expected(std::string_view text)
{
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X"))
    {
        base = 16;
        text.remove_prefix(2);
    }
    // from_chars alone would accept a sign and stop at the first non-digit.
    const std::string_view digits = base == 16 ? "0123456789abcdefABCDEF" : "0123456789";
    if (text.empty() || text.find_first_not_of(digits) != std::string_view::npos)
        return std::nullopt;
    int value = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (err != std::errc() || end != text.data() + text.size())
        return std::nullopt; // out of int's range
    return value;
}

std::vector<std::string> describe_bits(int v)
{
    std::vector<std::string> lines;
    for (const auto& bit : fast_open_sysctl_bits)
    {
        char mask[16];
        std::snprintf(mask, sizeof mask, "0x%-4x", static_cast<unsigned>(bit.mask));
        std::string line = std::string(v & bit.mask ? "[x] " : "[ ] ") + mask + std::string(bit.meaning);
        if (bit.needs)
        {
            char needs[32];
            std::snprintf(needs, sizeof needs, " (needs 0x%x)", static_cast<unsigned>(bit.needs));
            line += needs;
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

namespace {

template <typename Counters, typename Table>
std::vector<std::pair<std::string, std::string>> describe_from(const Counters& c, const Table& table)
{
    std::vector<std::pair<std::string, std::string>> lines;
    for (const auto& counter : table)
        lines.emplace_back(std::string(counter.kernel_name) + " " + std::to_string(c.*counter.member),
                           std::string(counter.side) + ": " + std::string(counter.meaning));
    return lines;
}

template <typename Counters, typename Table>
void counters_json(std::ostream& o, const char* key, const std::optional<Counters>& c, const Table& table)
{
    o << "  \"" << key << "\": ";
    if (!c)
    {
        o << "null,\n";
        return;
    }
    o << '{';
    for (std::size_t i = 0; i < table.size(); ++i)
        o << (i ? ", " : "") << '"' << table[i].name << "\": " << (*c).*table[i].member;
    o << "},\n";
}

void counters_text(std::ostream& o, const std::vector<std::pair<std::string, std::string>>& lines)
{
    for (const auto& [name, meaning] : lines)
    {
        o << "  " << name;
        for (std::size_t pad = name.size(); pad < 30; ++pad)
            o << ' ';
        o << meaning << '\n';
    }
}

} // namespace

std::vector<std::pair<std::string, std::string>> describe_counters(const fast_open_counters& c)
{
    return describe_from(c, fast_open_counter_table);
}

std::vector<std::pair<std::string, std::string>> describe_counters(const multipath_counters& c)
{
    return describe_from(c, multipath_counter_table);
}

std::vector<finding> diagnose(const facts& f)
{
    std::vector<finding> out;
    auto add = [&](severity s, std::string id, std::string msg) { out.push_back({s, std::move(id), std::move(msg)}); };
    auto num = [](std::uint64_t v) { return std::to_string(v); };

    if (!f.support)
        add(severity::problem, "sysctl_unavailable",
            "Cannot read net.ipv4.tcp_fastopen (" + f.support_error + "): TCP Fast Open needs Linux with /proc.");
    else
    {
        const auto& s = *f.support;
        const std::string value = std::to_string(s.value);
        if (f.expected && *f.expected != s.value)
            add(severity::problem, "unexpected_value",
                "net.ipv4.tcp_fastopen is " + value + " here, but " + std::to_string(*f.expected) +
                    " was expected. The setting belongs to each network namespace: a container does not inherit "
                    "the host's value. Set it where the program runs (e.g. docker run --sysctl "
                    "net.ipv4.tcp_fastopen=" + std::to_string(*f.expected) + ").");
        if (s.value == 0)
            add(severity::problem, "tfo_off",
                "TCP Fast Open is off in this network namespace (0): clients fall back to ordinary connects and "
                "servers ignore data in SYNs. Set net.ipv4.tcp_fastopen=3 to enable both sides.");
        else
        {
            if (!s.client_enabled())
                add(severity::warning, "client_off",
                    "Clients here never put data in the SYN (bit 0x1 is clear): tfo::async_fastopen_connect "
                    "falls back to an ordinary connect, and tfo::fast_open_deferred_connect cannot be set. Add 1.");
            // Linux's default, 1, is a host that only connects out: worth
            // knowing, not a fault. Server bits without 0x2 show an intent.
            if (!s.server_enabled())
                add(s.server_no_cookie() || s.server_without_option() ? severity::warning : severity::info,
                    "server_off",
                    "Servers here never accept data in the SYN, even with tfo::fast_open (bit 0x2 is clear); "
                    "clients are unaffected. A server needs 2 added.");
        }
        if (s.client_no_cookie() && !s.client_enabled())
            add(severity::info, "client_no_cookie_inert", "Bit 0x4 has no effect without bit 0x1.");
        if ((s.server_no_cookie() || s.server_without_option()) && !s.server_enabled())
            add(severity::info, "server_bits_inert", "Bits 0x200 and 0x400 have no effect without bit 0x2.");
        if (s.server_no_cookie() && s.server_enabled())
            add(severity::warning, "server_no_cookie",
                "Servers accept data in the SYN without a cookie (0x200): anyone who can spoof a source address "
                "can make them do work. Use it only on trusted networks.");
    }

    if (f.own_namespace && *f.own_namespace)
        add(severity::info, "own_namespace",
            "This process runs in its own network namespace (a container?): the settings and counters shown are "
            "that namespace's, not the host's.");

    if (f.counters)
    {
        const auto& c = *f.counters;
        if (c.blackhole > 0)
            add(severity::warning, "blackhole_fired",
                "The kernel's blackhole detector fired " + num(c.blackhole) +
                    " times: SYNs with data went unanswered (a middlebox?), so client TFO was paused for " +
                    (f.blackhole_timeout_sec ? std::to_string(*f.blackhole_timeout_sec) : std::string("?")) +
                    " s, doubling each time it fires again.");
        if (c.active_fail > 0 && c.active_fail >= c.active)
            add(severity::warning, "syn_data_failing",
                std::string("SYNs that carried data failed ") +
                    (c.active_fail > c.active ? "more often than" : "as often as") +
                    " their data was acknowledged (ActiveFail " + num(c.active_fail) + ", Active " +
                    num(c.active) +
                    "): a middlebox may strip the option or drop such SYNs, or the servers' keys changed.");
        if (c.passive_fail > 0)
            add(severity::warning, "cookies_rejected",
                "Servers here rejected " + num(c.passive_fail) +
                    " SYNs with data (PassiveFail): the key changed, or servers behind one address do not share "
                    "a key (see tfo::key_schedule).");
        if (c.listen_overflow > 0)
            add(severity::warning, "queue_overflow",
                "A listener's Fast Open queue was full " + num(c.listen_overflow) +
                    " times; those SYNs were handled as ordinary ones, so their data waited for the handshake. "
                    "Raise N in tfo::fast_open{N}.");
    }
    if (f.blackhole_timeout_sec && *f.blackhole_timeout_sec == 0)
        add(severity::info, "blackhole_detection_off",
            "Blackhole detection is off (net.ipv4.tcp_fastopen_blackhole_timeout_sec=0, the default since Linux "
            "5.14): if a middlebox drops SYNs with data, each such connection waits for a SYN retransmission.");

    if (!f.multipath)
        add(severity::info, "multipath_unavailable",
            "Multipath TCP is not available (" + f.multipath_error + "): tfo::open_multipath opens TCP sockets.");
    else if (!f.multipath->enabled)
        add(severity::info, "multipath_off",
            "Multipath TCP is off in this network namespace (net.mptcp.enabled=0): tfo::open_multipath falls back "
            "to TCP and says so (tfo::error::multipath_disabled). Set net.mptcp.enabled=1 to use it.");
    else if (!f.multipath->fast_open)
        add(severity::info, "multipath_without_fast_open",
            "Multipath TCP is on, but its sockets do not take the Fast Open options (that needs Linux 6.2): the "
            "data of a Multipath TCP connection waits for the handshake.");
    else
        add(severity::ok, "multipath_fast_open",
            "Multipath TCP is on (net.mptcp.enabled=1) and its sockets take the Fast Open options.");

    if (f.live.ran && f.live.data_in_syn)
        add(severity::ok, "self_test_passed",
            "Live self-test: this kernel completed a Fast Open exchange (a cookie, then data in the SYN) in a "
            "private network namespace.");
    else if (f.live.ran)
        add(severity::problem, "self_test_failed", "Live self-test failed: " + f.live.error + ".");
    else
        add(severity::info, "self_test_skipped", "Live self-test skipped: " + f.live.skipped_because + ".");

    const bool serious = std::any_of(out.begin(), out.end(), [](const finding& x) {
        return x.level == severity::problem || x.level == severity::warning;
    });
    if (!serious && f.support && f.support->client_enabled() && f.support->server_enabled())
        add(severity::ok, "ready", "TCP Fast Open is on for clients and servers in this network namespace.");

    std::stable_sort(out.begin(), out.end(), [](const finding& a, const finding& b) { return a.level > b.level; });
    return out;
}

std::string to_text(const facts& f, const std::vector<finding>& findings)
{
    std::ostringstream o;
    o << "tfo-doctor: TCP Fast Open in this network namespace\n\n";
    if (f.support)
    {
        o << "net.ipv4.tcp_fastopen = " << f.support->value << "\n";
        for (const auto& line : describe_bits(f.support->value))
            o << "  " << line << '\n';
    }
    else
        o << "net.ipv4.tcp_fastopen: unreadable (" << f.support_error << ")\n";
    o << "namespace: "
      << (!f.own_namespace ? "unknown (cannot see PID 1's)" : *f.own_namespace ? "its own (not PID 1's)" : "PID 1's")
      << '\n';
    o << "blackhole timeout: "
      << (f.blackhole_timeout_sec ? std::to_string(*f.blackhole_timeout_sec) + " s" : std::string("unknown")) << '\n';
    o << "server key: " << f.key_status;
    if (!f.key_fingerprint.empty())
        o << ", fingerprint " << f.key_fingerprint;
    o << "\n";
    if (f.multipath)
        o << "net.mptcp.enabled = " << (f.multipath->enabled ? 1 : 0) << " (Fast Open on Multipath TCP: "
          << (f.multipath->fast_open ? "available" : "not available") << ")\n\n";
    else
        o << "net.mptcp.enabled: unreadable (" << f.multipath_error << ")\n\n";
    if (f.counters)
    {
        o << "counters since this namespace began:\n";
        counters_text(o, describe_counters(*f.counters));
    }
    else
        o << "counters: unreadable (" << f.counters_error << ")\n";
    if (f.multipath_counts)
    {
        o << "Multipath TCP counters:\n";
        counters_text(o, describe_counters(*f.multipath_counts));
    }
    o << "\ndiagnosis:\n";
    for (const auto& x : findings)
        o << "  [" << severity_name(x.level) << "] " << x.message << '\n';
    return o.str();
}

std::string to_json(const facts& f, const std::vector<finding>& findings)
{
    std::ostringstream o;
    o << "{\n";
    if (f.support)
    {
        const auto& s = *f.support;
        auto b = [](bool v) { return v ? "true" : "false"; };
        o << "  \"tcp_fastopen\": " << s.value << ",\n"
          << "  \"client_enabled\": " << b(s.client_enabled()) << ",\n"
          << "  \"server_enabled\": " << b(s.server_enabled()) << ",\n"
          << "  \"client_no_cookie\": " << b(s.client_no_cookie()) << ",\n"
          << "  \"server_no_cookie\": " << b(s.server_no_cookie()) << ",\n"
          << "  \"server_without_option\": " << b(s.server_without_option()) << ",\n";
    }
    else
        o << "  \"tcp_fastopen\": null,\n";
    o << "  \"own_namespace\": " << (!f.own_namespace ? "null" : *f.own_namespace ? "true" : "false") << ",\n";
    o << "  \"blackhole_timeout_sec\": "
      << (f.blackhole_timeout_sec ? std::to_string(*f.blackhole_timeout_sec) : std::string("null")) << ",\n";
    o << "  \"key_status\": \"" << json_escape(f.key_status) << "\",\n";
    o << "  \"key_fingerprint\": "
      << (f.key_fingerprint.empty() ? std::string("null") : "\"" + f.key_fingerprint + "\"") << ",\n";
    if (f.multipath)
        o << "  \"mptcp_enabled\": " << (f.multipath->enabled ? "true" : "false")
          << ",\n  \"mptcp_fast_open\": " << (f.multipath->fast_open ? "true" : "false") << ",\n";
    else
        o << "  \"mptcp_enabled\": null,\n  \"mptcp_fast_open\": null,\n";
    counters_json(o, "counters", f.counters, fast_open_counter_table);
    counters_json(o, "mptcp_counters", f.multipath_counts, multipath_counter_table);
    o << "  \"self_test\": {\"ran\": " << (f.live.ran ? "true" : "false")
      << ", \"passed\": " << (f.live.ran && f.live.data_in_syn ? "true" : "false") << ", \"detail\": \""
      << json_escape(f.live.ran ? f.live.error : f.live.skipped_because) << "\"},\n";
    o << "  \"findings\": [";
    for (std::size_t i = 0; i < findings.size(); ++i)
        o << (i ? ",\n    " : "\n    ") << "{\"severity\": \"" << severity_name(findings[i].level) << "\", \"id\": \""
          << findings[i].id << "\", \"message\": \"" << json_escape(findings[i].message) << "\"}";
    o << "\n  ]\n}\n";
    return o.str();
}

} // namespace tfo::doctor
