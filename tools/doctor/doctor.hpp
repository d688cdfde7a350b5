//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-doctor: why is TCP Fast Open not happening here?
//
// What the tool reads (facts) is kept apart from what it concludes
// (diagnose) so that the conclusions can be tested for every setting
// without a kernel to match.
//

#ifndef TFO_TOOLS_DOCTOR_HPP
#define TFO_TOOLS_DOCTOR_HPP

#include <tfo/system.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfo::doctor {

/// The result of the live self-test in a private network namespace.
struct self_test
{
    bool ran = false;
    std::string skipped_because;    // when !ran
    bool cookie_requested = false;  // first connection: TCPFastOpenCookieReqd rose
    bool data_in_syn = false;       // second connection: Active and Passive rose, TCP_INFO agrees
    std::string error;              // what went wrong, when it failed
};

/// Everything the tool reads about this network namespace.
struct facts
{
    std::optional<fast_open_support> support; // net.ipv4.tcp_fastopen
    std::string support_error;
    std::optional<int> expected;              // --expect VALUE
    std::optional<bool> own_namespace;        // not the namespace of PID 1 (a container)
    std::optional<int> blackhole_timeout_sec; // net.ipv4.tcp_fastopen_blackhole_timeout_sec
    std::optional<fast_open_counters> counters;
    std::string counters_error;
    std::string key_fingerprint;              // of net.ipv4.tcp_fastopen_key; empty if unknown
    std::string key_status;                   // "set", "not generated yet", "unreadable (needs root)"
    std::optional<multipath_support> multipath; // net.mptcp.enabled, and Fast Open on MPTCP sockets
    std::string multipath_error;
    std::optional<multipath_counters> multipath_counts; // MPTcpExt
    self_test live;
};

enum class severity
{
    ok,
    info,
    warning,
    problem
};

/// One conclusion, with a stable identifier for monitoring.
struct finding
{
    severity level;
    std::string id;
    std::string message;
};

/// Reads the facts of the calling thread's namespace. Runs the self-test
/// unless `run_self_test` is false.
facts gather(std::optional<int> expected, bool run_self_test);

/// Concludes from the facts, most important first.
std::vector<finding> diagnose(const facts& f);

/// The value of `--expect`: decimal or `0x` hexadecimal digits, 0 to
/// INT_MAX; nothing for anything else (empty, a sign, octal's meaning, spaces).
std::optional<int> parse_expected(std::string_view text);

/// The sysctl bits in words, one line each.
std::vector<std::string> describe_bits(int value);

/// What each counter means, in the order they are printed.
std::vector<std::pair<std::string, std::string>> describe_counters(const fast_open_counters& c);
std::vector<std::pair<std::string, std::string>> describe_counters(const multipath_counters& c);

std::string to_text(const facts& f, const std::vector<finding>& findings);
std::string to_json(const facts& f, const std::vector<finding>& findings);

/// A fingerprint of key bytes: the first 8 bytes of their SHA-256, in hex.
std::string fingerprint(const std::vector<unsigned char>& key);

} // namespace tfo::doctor

#endif
