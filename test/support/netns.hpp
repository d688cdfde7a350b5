//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Boost.Test glue for the private network namespace every real-TFO test runs in.
//

#ifndef TFO_TEST_SUPPORT_NETNS_HPP
#define TFO_TEST_SUPPORT_NETNS_HPP

#include <tfo/netns/private_netns.hpp>
#include <tfo/netns/raw_client.hpp>

#include <boost/test/unit_test.hpp>

namespace tfo::test {

// Tests name it here too (the connect fixture, the ssl tests).
using tfo::netns::private_netns;

/// A Boost.Test precondition: skips the test, with the reason, where no
/// namespace can be made. When TFO_REQUIRE_NETNS=1 (CI, root) the test runs
/// anyway so that `private_netns` fails it instead of letting it be skipped.
boost::test_tools::assertion_result netns_available(boost::unit_test::test_unit_id);

/// True when the running kernel is at least `major.minor`.
bool kernel_at_least(int major, int minor);

} // namespace tfo::test

#endif
