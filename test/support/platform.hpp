//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Boost.Test preconditions for the test cases that hold on one side of the
// platform seam only (include/tfo/detail/platform.hpp): Linux's own answers
// (option numbers, TCP_INFO, /proc), or the portable side's (the ordinary
// connect, errors that say "not available here"). Elsewhere such a case is
// reported as skipped, with the reason.
//

#ifndef TFO_TEST_SUPPORT_PLATFORM_HPP
#define TFO_TEST_SUPPORT_PLATFORM_HPP

#include <tfo/detail/platform.hpp>

#include <boost/test/unit_test.hpp>

namespace tfo::test {

inline boost::test_tools::assertion_result fast_open_here(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result result(tfo::detail::platform::has_fast_open);
    result.message() << "tfo has no Fast Open on this platform";
    return result;
}

inline boost::test_tools::assertion_result no_fast_open_here(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result result(!tfo::detail::platform::has_fast_open);
    result.message() << "tfo has Fast Open on this platform";
    return result;
}

/// For a case about the Linux side of the seam: `*tfo::test::with_fast_open()`.
inline boost::unit_test::decorator::precondition with_fast_open()
{
    return boost::unit_test::decorator::precondition(fast_open_here);
}

/// For a case about the portable side: `*tfo::test::without_fast_open()`.
inline boost::unit_test::decorator::precondition without_fast_open()
{
    return boost::unit_test::decorator::precondition(no_fast_open_here);
}

} // namespace tfo::test

#endif
