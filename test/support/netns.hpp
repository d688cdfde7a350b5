//
// tfo: TCP Fast Open for Boost.Asio
//
// Boost.Test glue for the private network namespace every real-TFO test runs in.
//

#ifndef TFO_TEST_SUPPORT_NETNS_HPP
#define TFO_TEST_SUPPORT_NETNS_HPP

#include "private_netns.hpp"

#include <boost/test/unit_test.hpp>

namespace tfo::test {

/// A Boost.Test precondition: skips the test, with the reason, where no
/// namespace can be made. When TFO_REQUIRE_NETNS=1 (CI, root) the test runs
/// anyway so that `private_netns` fails it instead of letting it be skipped.
boost::test_tools::assertion_result netns_available(boost::unit_test::test_unit_id);

} // namespace tfo::test

#endif
