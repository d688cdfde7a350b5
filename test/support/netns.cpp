//
// tfo: TCP Fast Open for Boost.Asio
//

#include "netns.hpp"

#include <cstdlib>

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
    auto reason = netns_unavailable_reason();
    boost::test_tools::assertion_result result(!reason);
    if (reason)
        result.message() << "no private network namespace (" << *reason << ")";
    return result;
}

} // namespace tfo::test
