//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
#include <tfo/system.hpp>

#include <boost/test/unit_test.hpp>

#include <tfo/error.hpp>

#include "platform.hpp"

#include <set>
#include <string>
#include <string_view>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_system)

namespace {

// Shaped like /proc/net/netstat, with the fields in an order of our own.
const std::string netstat_text =
    "TcpExt: SyncookiesSent TCPFastOpenPassive TCPFastOpenActive TCPFastOpenCookieReqd TCPFastOpenPassiveFail "
    "TCPFastOpenListenOverflow TCPFastOpenActiveFail TCPFastOpenBlackhole TCPFastOpenPassiveAltKey TCPAutoCorking\n"
    "TcpExt: 5 2 3 4 6 7 8 9 10 11\n"
    "IpExt: InNoRoutes InTruncatedPkts\n"
    "IpExt: 0 0\n";

} // namespace

BOOST_AUTO_TEST_CASE(sysctl_bits)
{
    boost::system::error_code ec;
    auto s = tfo::parse_fast_open_sysctl("1\n", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(s.value == 1);
    BOOST_TEST(s.client_enabled());
    BOOST_TEST(!s.server_enabled());

    s = tfo::parse_fast_open_sysctl("1543\n", ec); // 0x607
    BOOST_TEST(!ec);
    BOOST_TEST(s.client_enabled());
    BOOST_TEST(s.server_enabled());
    BOOST_TEST(s.client_no_cookie());
    BOOST_TEST(s.server_no_cookie());
    BOOST_TEST(s.server_without_option());

    s = tfo::parse_fast_open_sysctl("0", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(!s.client_enabled());
}

BOOST_AUTO_TEST_CASE(sysctl_malformed)
{
    for (const char* text : {"", "\n", "x", "-1\n", "-0", "+3", "3 4\n", "99999999999999999999\n", "0x3"})
    {
        boost::system::error_code ec;
        tfo::parse_fast_open_sysctl(text, ec);
        BOOST_TEST((ec == tfo::error::malformed_proc_file), "text: '" << text << "'");
    }
}

BOOST_AUTO_TEST_CASE(system_support_reads_the_running_kernel, *tfo::test::with_fast_open())
{
    boost::system::error_code ec;
    tfo::system_support(ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_CHECK_NO_THROW(tfo::system_support());
}

BOOST_AUTO_TEST_CASE(netstat_by_name_not_position)
{
    boost::system::error_code ec;
    auto c = tfo::parse_netstat(netstat_text, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(c.passive == 2u);
    BOOST_TEST(c.active == 3u);
    BOOST_TEST(c.cookie_reqd == 4u);
    BOOST_TEST(c.passive_fail == 6u);
    BOOST_TEST(c.listen_overflow == 7u);
    BOOST_TEST(c.active_fail == 8u);
    BOOST_TEST(c.blackhole == 9u);
    BOOST_TEST(c.passive_alt_key == 10u);
}

BOOST_AUTO_TEST_CASE(netstat_missing_counters_stay_zero)
{
    boost::system::error_code ec;
    auto c = tfo::parse_netstat("TcpExt: TCPFastOpenActive\nTcpExt: 12\n", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(c.active == 12u);
    BOOST_TEST(c.passive_alt_key == 0u);
}

BOOST_AUTO_TEST_CASE(netstat_malformed)
{
    boost::system::error_code ec;
    tfo::parse_netstat("", ec);
    BOOST_TEST((ec == tfo::error::counters_unavailable));
    tfo::parse_netstat("IpExt: A\nIpExt: 1\n", ec);
    BOOST_TEST((ec == tfo::error::counters_unavailable));
    tfo::parse_netstat("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nTcpExt: 1\n", ec);
    BOOST_TEST((ec == tfo::error::malformed_proc_file));
    tfo::parse_netstat("TcpExt: TCPFastOpenActive\nTcpExt: -1\n", ec);
    BOOST_TEST((ec == tfo::error::malformed_proc_file));
    tfo::parse_netstat("TcpExt: TCPFastOpenActive\n", ec);
    BOOST_TEST((ec == tfo::error::malformed_proc_file));
}

BOOST_AUTO_TEST_CASE(counters_subtract)
{
    tfo::fast_open_counters before, after;
    before.active = 1;
    after.active = 4;
    after.passive = 2;
    auto d = after - before;
    BOOST_TEST(d.active == 3u);
    BOOST_TEST(d.passive == 2u);
    BOOST_TEST((d == tfo::fast_open_counters{3, 0, 2, 0, 0, 0, 0, 0}));
}

namespace {

// Each row of a counter table: its kernel name parses into its member and no
// other, in its own section only, and subtraction covers it.
template <typename Counters, typename Table, typename Parse>
void check_counter_table(const Table& table, const std::string& section, const Parse& parse)
{
    std::set<std::string_view> kernel_names, names;
    for (const auto& counter : table)
    {
        BOOST_TEST_CONTEXT(counter.kernel_name)
        {
            BOOST_TEST(kernel_names.insert(counter.kernel_name).second);
            BOOST_TEST(names.insert(counter.name).second);
            BOOST_TEST((counter.side == "client" || counter.side == "server" || counter.side == "sender" ||
                        counter.side == "receiver"));
            BOOST_TEST(!counter.meaning.empty());
            const std::string pair = ": SyncookiesSent " + std::string(counter.kernel_name) + "\n" + section +
                                     ": 5 7\n";
            // A section of the other kind before it, with the same name and another value.
            const std::string other = section == "TcpExt" ? "MPTcpExt" : "TcpExt";
            const std::string text = other + ": " + std::string(counter.kernel_name) + "\n" + other + ": 9\n" +
                                     section + pair;
            boost::system::error_code ec;
            const Counters parsed = parse(text, ec);
            BOOST_TEST(!ec);
            Counters expected;
            expected.*counter.member = 7;
            BOOST_TEST((parsed == expected));
            BOOST_TEST(((parsed - expected) == Counters{}));
            BOOST_TEST(((parsed - Counters{}) == parsed));
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(one_table_drives_parsing_and_subtraction)
{
    check_counter_table<tfo::fast_open_counters>(
        tfo::fast_open_counter_table, "TcpExt",
        [](std::string_view text, boost::system::error_code& ec) { return tfo::parse_netstat(text, ec); });
    check_counter_table<tfo::multipath_counters>(
        tfo::multipath_counter_table, "MPTcpExt",
        [](std::string_view text, boost::system::error_code& ec) { return tfo::parse_multipath_netstat(text, ec); });
}

BOOST_AUTO_TEST_CASE(multipath_netstat_missing_or_malformed)
{
    boost::system::error_code ec;
    tfo::parse_multipath_netstat("TcpExt: TCPFastOpenActive\nTcpExt: 1\n", ec);
    BOOST_TEST((ec == tfo::error::multipath_unavailable));
    tfo::parse_multipath_netstat("MPTcpExt: MPCapableSYNTX MPCapableSYNRX\nMPTcpExt: 1\n", ec);
    BOOST_TEST((ec == tfo::error::malformed_proc_file));
}

BOOST_AUTO_TEST_CASE(sysctl_bits_table_uses_the_accessors_bits)
{
    const tfo::fast_open_support all{0x607};
    int seen = 0;
    for (const auto& bit : tfo::fast_open_sysctl_bits)
    {
        BOOST_TEST((bit.mask & seen) == 0); // each bit once
        seen |= bit.mask;
        BOOST_TEST((bit.needs == 0 || bit.needs == 0x1 || bit.needs == 0x2));
    }
    BOOST_TEST(seen == all.value);
    // 0x400 alone decodes as set, and the table says it needs 0x2.
    BOOST_TEST(tfo::fast_open_support{0x400}.server_without_option());
    BOOST_TEST(!tfo::fast_open_support{0x400}.server_enabled());
    BOOST_TEST(tfo::fast_open_sysctl_bits[4].mask == 0x400);
    BOOST_TEST(tfo::fast_open_sysctl_bits[4].needs == 0x2);
}

BOOST_AUTO_TEST_CASE(kernel_counters_read_this_namespace, *tfo::test::with_fast_open())
{
    boost::system::error_code ec;
    tfo::kernel_counters(ec);
    BOOST_TEST(!ec, ec.message());
}

// Nothing is read where tfo has no Fast Open: under Wine a path such as /proc
// would lead to the Linux host's own files.
BOOST_AUTO_TEST_CASE(nothing_to_read_without_fast_open, *tfo::test::without_fast_open())
{
    boost::system::error_code ec;
    tfo::system_support(ec);
    BOOST_TEST((ec == tfo::error::sysctl_unavailable));
    tfo::kernel_counters(ec);
    BOOST_TEST((ec == tfo::error::counters_unavailable));
    tfo::kernel_multipath_counters(ec);
    BOOST_TEST((ec == tfo::error::multipath_unavailable));
    tfo::system_multipath_support(ec);
    BOOST_TEST((ec == tfo::error::multipath_unavailable));
}

BOOST_AUTO_TEST_SUITE_END() // unit_system
