//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "netns.hpp"

#include <cstdio>
#include <cstdlib>
#include <sys/utsname.h>

namespace tfo::test {
namespace {

bool netns_required()
{
    const char* v = std::getenv("TFO_REQUIRE_NETNS");
    return v && std::string(v) == "1";
}

} // namespace

boost::test_tools::assertion_result netns_available(boost::unit_test::test_unit_id)
{
    if (netns_required())
        return true;
    auto reason = tfo::netns::unavailable_reason();
    boost::test_tools::assertion_result result(!reason);
    if (reason)
        result.message() << "no private network namespace (" << *reason << ")";
    return result;
}

bool kernel_at_least(int major, int minor)
{
    utsname u{};
    ::uname(&u);
    int ma = 0, mi = 0;
    std::sscanf(u.release, "%d.%d", &ma, &mi);
    return ma > major || (ma == major && mi >= minor);
}

} // namespace tfo::test
