//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-doctor: its conclusions for every setting (no kernel needed), and the
// real tool run in private network namespaces set to each mode.

#include "doctor.hpp"

#include <boost/test/unit_test.hpp>

#include "netns.hpp"

#include <algorithm>
#include <cstdio>
#include <sys/wait.h>
#include <string>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(tools_doctor)

namespace ut = boost::unit_test;
using tfo::doctor::severity;

namespace {

tfo::doctor::facts facts_for(int value)
{
    tfo::doctor::facts f;
    f.support = tfo::fast_open_support{value};
    f.counters = tfo::fast_open_counters{};
    f.blackhole_timeout_sec = 0;
    f.live.ran = true;
    f.live.cookie_requested = f.live.data_in_syn = true;
    return f;
}

bool has(const std::vector<tfo::doctor::finding>& findings, const std::string& id, severity level)
{
    return std::any_of(findings.begin(), findings.end(),
                       [&](const auto& f) { return f.id == id && f.level == level; });
}

bool has(const std::vector<tfo::doctor::finding>& findings, const std::string& id)
{
    return std::any_of(findings.begin(), findings.end(), [&](const auto& f) { return f.id == id; });
}

// Runs the real tool, in the calling process's network namespace; its exit
// status in `status` when asked for.
std::string run_doctor(const std::string& args, int* status = nullptr)
{
    std::string out;
    FILE* p = ::popen((std::string(TFO_DOCTOR_PATH) + " " + args + " 2>&1").c_str(), "r");
    BOOST_REQUIRE(p);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    const int raw = ::pclose(p);
    if (status)
        *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(diagnosis_per_mode)
{
    auto off = tfo::doctor::diagnose(facts_for(0));
    BOOST_TEST(has(off, "tfo_off", severity::problem));
    BOOST_TEST(!has(off, "ready"));

    // Linux's default: a host that only connects out. Information, not a fault.
    auto client_only = tfo::doctor::diagnose(facts_for(1));
    BOOST_TEST(has(client_only, "server_off", severity::info));
    BOOST_TEST(!has(client_only, "client_off"));
    BOOST_TEST(!has(client_only, "ready"));

    // Server bits without 0x2 show that servers were meant to do Fast Open.
    auto server_meant = tfo::doctor::diagnose(facts_for(0x401));
    BOOST_TEST(has(server_meant, "server_off", severity::warning));
    BOOST_TEST(has(server_meant, "server_bits_inert", severity::info));

    auto server_only = tfo::doctor::diagnose(facts_for(2));
    BOOST_TEST(has(server_only, "client_off", severity::warning));
    BOOST_TEST(!has(server_only, "server_off"));

    auto both = tfo::doctor::diagnose(facts_for(3));
    BOOST_TEST(has(both, "ready", severity::ok));
    BOOST_TEST((both.front().level == severity::info)); // blackhole detection off comes first, then ok

    auto no_cookie = tfo::doctor::diagnose(facts_for(0x207));
    BOOST_TEST(has(no_cookie, "server_no_cookie", severity::warning));

    auto inert = tfo::doctor::diagnose(facts_for(0x604));
    BOOST_TEST(has(inert, "client_no_cookie_inert"));
    BOOST_TEST(has(inert, "server_bits_inert"));
}

BOOST_AUTO_TEST_CASE(diagnosis_of_multipath)
{
    auto f = facts_for(3);
    BOOST_TEST(has(tfo::doctor::diagnose(f), "multipath_unavailable", severity::info));
    f.multipath = tfo::multipath_support{false, false};
    BOOST_TEST(has(tfo::doctor::diagnose(f), "multipath_off", severity::info));
    f.multipath = tfo::multipath_support{true, false};
    BOOST_TEST(has(tfo::doctor::diagnose(f), "multipath_without_fast_open", severity::info));
    f.multipath = tfo::multipath_support{true, true};
    const auto findings = tfo::doctor::diagnose(f);
    BOOST_TEST(has(findings, "multipath_fast_open", severity::ok));
    BOOST_TEST(has(findings, "ready", severity::ok));
}

BOOST_AUTO_TEST_CASE(diagnosis_from_counters_and_expectations)
{
    auto f = facts_for(1);
    f.expected = 3;
    f.own_namespace = true;
    f.counters->blackhole = 2;
    f.blackhole_timeout_sec = 3600;
    f.counters->active_fail = 5;
    f.counters->active = 1;
    f.counters->passive_fail = 4;
    f.counters->listen_overflow = 9;
    f.live.data_in_syn = false;
    f.live.error = "the second connection carried no data in its SYN";
    auto d = tfo::doctor::diagnose(f);
    BOOST_TEST(has(d, "unexpected_value", severity::problem));
    BOOST_TEST(has(d, "own_namespace", severity::info));
    BOOST_TEST(has(d, "blackhole_fired", severity::warning));
    BOOST_TEST(has(d, "syn_data_failing", severity::warning));
    BOOST_TEST(has(d, "cookies_rejected", severity::warning));
    BOOST_TEST(has(d, "queue_overflow", severity::warning));
    BOOST_TEST(has(d, "self_test_failed", severity::problem));
    BOOST_TEST((d.front().level == severity::problem));
}

std::string message_of(const std::vector<tfo::doctor::finding>& findings, const std::string& id)
{
    for (const auto& f : findings)
        if (f.id == id)
            return f.message;
    return {};
}

BOOST_AUTO_TEST_CASE(counter_findings_say_what_the_kernel_does)
{
    auto f = facts_for(3);
    f.counters->active_fail = 4;
    f.counters->active = 4;
    const auto equal = message_of(tfo::doctor::diagnose(f), "syn_data_failing");
    BOOST_TEST(equal.find("as often as") != std::string::npos, equal);
    BOOST_TEST(equal.find("Most") == std::string::npos, equal);
    f.counters->active = 3;
    const auto more = message_of(tfo::doctor::diagnose(f), "syn_data_failing");
    BOOST_TEST(more.find("more often than") != std::string::npos, more);
    f.counters->active = 5;
    BOOST_TEST(!has(tfo::doctor::diagnose(f), "syn_data_failing"));

    // An overflowing queue does not refuse SYNs: the kernel handles them as ordinary ones.
    f.counters->listen_overflow = 2;
    const auto overflow = message_of(tfo::doctor::diagnose(f), "queue_overflow");
    BOOST_TEST(overflow.find("ordinary") != std::string::npos, overflow);
    BOOST_TEST(overflow.find("refused") == std::string::npos, overflow);
}

BOOST_AUTO_TEST_CASE(every_counter_is_shown_from_the_one_table)
{
    tfo::fast_open_counters c;
    std::uint64_t n = 1;
    for (const auto& counter : tfo::fast_open_counter_table)
        c.*counter.member = n++;
    const auto lines = tfo::doctor::describe_counters(c);
    auto f = facts_for(3);
    f.counters = c;
    const auto json = tfo::doctor::to_json(f, tfo::doctor::diagnose(f));
    BOOST_REQUIRE(lines.size() == tfo::fast_open_counter_table.size());
    n = 1;
    for (std::size_t i = 0; i < lines.size(); ++i, ++n)
    {
        const auto& counter = tfo::fast_open_counter_table[i];
        BOOST_TEST(lines[i].first == std::string(counter.kernel_name) + " " + std::to_string(n));
        BOOST_TEST(lines[i].second.find(counter.meaning) != std::string::npos);
        BOOST_TEST(json.find("\"" + std::string(counter.name) + "\": " + std::to_string(n)) != std::string::npos,
                   json);
    }
}

BOOST_AUTO_TEST_CASE(expected_value_is_decimal_or_hex_and_in_range)
{
    using tfo::doctor::parse_expected;
    BOOST_TEST(parse_expected("3").value_or(-1) == 3);
    BOOST_TEST(parse_expected("519").value_or(-1) == 519);
    BOOST_TEST(parse_expected("0x207").value_or(-1) == 0x207);
    BOOST_TEST(parse_expected("0X1").value_or(-1) == 1);
    BOOST_TEST(parse_expected("010").value_or(-1) == 10); // decimal, not octal 8
    BOOST_TEST(parse_expected("0").value_or(-1) == 0);
    BOOST_TEST(parse_expected("2147483647").value_or(-1) == 2147483647);
    for (const char* bad : {"", "0x", "4294967299", "2147483648", "0x80000000", "-1", "+3", " 3", "3 ", "3x", "0b11",
                            "1e3", "0x-1", "07777777777777777777777"})
        BOOST_TEST(!parse_expected(bad).has_value(), "accepted: '" << bad << "'");
}

BOOST_AUTO_TEST_CASE(unreadable_sysctl)
{
    tfo::doctor::facts f;
    f.support_error = "no such file";
    auto d = tfo::doctor::diagnose(f);
    BOOST_TEST(has(d, "sysctl_unavailable", severity::problem));
    auto json = tfo::doctor::to_json(f, d);
    BOOST_TEST(json.find("\"tcp_fastopen\": null") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bits_in_words)
{
    auto lines = tfo::doctor::describe_bits(0x203);
    BOOST_TEST(lines.size() == 5u);
    BOOST_TEST(lines[0].starts_with("[x] 0x1"));
    BOOST_TEST(lines[1].starts_with("[x] 0x2"));
    BOOST_TEST(lines[2].starts_with("[ ] 0x4"));
    BOOST_TEST(lines[3].starts_with("[x] 0x200"));
}

BOOST_AUTO_TEST_CASE(json_escapes_text)
{
    auto f = facts_for(3);
    f.key_status = "odd \"status\"\n";
    auto json = tfo::doctor::to_json(f, tfo::doctor::diagnose(f));
    BOOST_TEST(json.find("odd \\\"status\\\"\\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fingerprint_hides_the_key)
{
    std::vector<unsigned char> key(16, 0x42);
    const auto fp = tfo::doctor::fingerprint(key);
    BOOST_TEST(fp.size() == 16u);
    BOOST_TEST(fp.find("42424242") == std::string::npos);
    BOOST_TEST(fp == tfo::doctor::fingerprint(key));
}

BOOST_AUTO_TEST_SUITE(live, *ut::precondition(tfo::test::netns_available) * ut::timeout(120))

BOOST_AUTO_TEST_CASE(correct_diagnosis_in_each_mode)
{
    struct expectation
    {
        int mode;
        const char* must;
        const char* must_not;
    };
    for (const auto& e : {expectation{0, "\"tfo_off\"", "\"ready\""},
                          expectation{1, "\"server_off\"", "\"client_off\""},
                          expectation{2, "\"client_off\"", "\"server_off\""},
                          expectation{3, "\"ready\"", "\"tfo_off\""},
                          expectation{0x207, "\"server_no_cookie\"", "\"tfo_off\""}})
    {
        tfo::netns::private_netns ns(e.mode);
        const std::string json = run_doctor("--json");
        BOOST_TEST_CONTEXT("mode " << e.mode << ":\n" << json)
        {
            BOOST_TEST(json.find("\"tcp_fastopen\": " + std::to_string(e.mode) + ",") != std::string::npos);
            BOOST_TEST(json.find(e.must) != std::string::npos);
            BOOST_TEST(json.find(e.must_not) == std::string::npos);
            // The self-test runs in a namespace of its own, so it passes in every mode.
            BOOST_TEST(json.find("\"passed\": true") != std::string::npos);
        }
    }
}

// Multipath TCP in the namespace: on (with Fast Open on its sockets, Linux
// 6.2), then switched off there.
BOOST_AUTO_TEST_CASE(multipath_in_this_namespace)
{
    tfo::netns::private_netns ns(3);
    std::string json = run_doctor("--json --no-self-test");
    BOOST_TEST(json.find("\"mptcp_enabled\": true,") != std::string::npos, json);
    BOOST_TEST(json.find("\"mptcp_fast_open\": true,") != std::string::npos, json);
    BOOST_TEST(json.find("\"multipath_fast_open\"") != std::string::npos, json);
    BOOST_TEST(json.find("\"mptcp_counters\": {\"capable_syn_rx\": 0,") != std::string::npos, json);
    BOOST_TEST(run_doctor("--no-self-test").find("net.mptcp.enabled = 1 (Fast Open on Multipath TCP: available)") !=
               std::string::npos);
    ns.set_sysctl("net/mptcp/enabled", "0");
    json = run_doctor("--json --no-self-test");
    BOOST_TEST(json.find("\"mptcp_enabled\": false,") != std::string::npos, json);
    BOOST_TEST(json.find("\"multipath_off\"") != std::string::npos, json);
}

BOOST_AUTO_TEST_CASE(counters_of_this_namespace_and_the_expected_value)
{
    tfo::netns::private_netns ns(1);
    const std::string json = run_doctor("--json --expect 3 --no-self-test");
    BOOST_TEST(json.find("\"unexpected_value\"") != std::string::npos, json);
    BOOST_TEST(json.find("\"counters\": {\"active\": 0,") != std::string::npos, json);
    BOOST_TEST(json.find("\"ran\": false") != std::string::npos, json);
    const std::string text = run_doctor("--expect 3 --no-self-test");
    BOOST_TEST(text.find("[problem] net.ipv4.tcp_fastopen is 1 here, but 3 was expected") != std::string::npos, text);
    BOOST_TEST(text.find("[info] Servers here never accept data") != std::string::npos, text); // mode 1
    const std::string decimal = run_doctor("--expect 010 --no-self-test");
    BOOST_TEST(decimal.find("but 10 was expected") != std::string::npos, decimal);
    const std::string hex = run_doctor("--expect 0x1 --no-self-test");
    BOOST_TEST(hex.find("unexpected_value") == std::string::npos, hex);
    BOOST_TEST(hex.find("was expected") == std::string::npos, hex);
}

BOOST_AUTO_TEST_CASE(bad_expected_values_are_usage_errors)
{
    tfo::test::private_netns ns(3);
    for (const char* bad : {"''", "4294967299", "-1", "0x"})
    {
        int status = 0;
        const std::string out = run_doctor(std::string("--expect ") + bad + " --no-self-test", &status);
        BOOST_TEST(status == 2, bad << ": " << out);
        BOOST_TEST(out.find("--expect takes") != std::string::npos, out);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // tools_doctor
