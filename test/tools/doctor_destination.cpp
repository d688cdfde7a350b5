//
// tfo: TCP Fast Open for Boost.Asio
//
// tfo-doctor --destination: the kernel's tcp_metrics entry and the path
// memory's view of one destination, from the real tool run in a private
// network namespace where an nftables rule drops SYNs that carry data.

#include "destination.hpp"

#include <boost/test/unit_test.hpp>

#include "connect_fixture.hpp"

#include <cstdio>
#include <string>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(tools_doctor_destination)

namespace asio = boost::asio;
namespace ut = boost::unit_test;
using namespace tfo::test;

namespace {

std::string run_doctor(const std::string& args)
{
    std::string out;
    FILE* p = ::popen((std::string(TFO_DOCTOR_PATH) + " " + args).c_str(), "r");
    BOOST_REQUIRE(p);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    ::pclose(p);
    return out;
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(doctor_destination, *ut::precondition(tfo::test::netns_available) * ut::timeout(60))

BOOST_AUTO_TEST_CASE(bad_destination)
{
    const auto r = tfo::doctor::examine_destination("no-port-here", false);
    BOOST_TEST(r.error == "expected HOST:PORT");
}

BOOST_FIXTURE_TEST_CASE(no_entry_then_a_cookie_then_drops, fast_open_listener)
{
    const std::string where = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    std::string json = run_doctor("--json --destination " + where);
    BOOST_TEST(contains(json, "\"found\":false"), json);
    BOOST_TEST(contains(json, "\"fast_open\":true"), json);

    // A live probe: a fast-open connect with no data gets the cookie.
    json = run_doctor("--json --destination " + where + " --probe");
    BOOST_TEST(contains(json, "\"ran\":true,\"result\":\"connected\""), json);
    BOOST_TEST(contains(json, "\"found\":true"), json);
    BOOST_TEST(!contains(json, "\"cookie_length\":0"), json);

    // The kernel alone loses one SYN with data to the middlebox...
    auto& memory = asio::use_service<tfo::path_memory>(io);
    auto options = memory.options();
    options.enabled = false;
    memory.set_options(options);
    drop_syns_with_data();
    fastopen_once(acceptor, request);

    // ... which a new process's path memory learns from the kernel.
    json = run_doctor("--json --destination " + where);
    BOOST_TEST(contains(json, "\"syn_drops\":1"), json);
    BOOST_TEST(contains(json, "\"fast_open\":false"), json);
    BOOST_TEST(contains(json, "\"reason\":\"SYN drops recorded by the kernel\""), json);
    const std::string text = run_doctor("--destination " + where);
    BOOST_TEST(contains(text, "SYN drops 1"), text);
    BOOST_TEST(contains(text, "Fast Open off for"), text);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // tools_doctor_destination
