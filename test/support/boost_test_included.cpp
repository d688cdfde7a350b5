//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Boost.Test's header-only variant: the framework and main(), compiled once
// and linked into every test program where there is no Boost.Test library
// for the target (the mingw-w64 build). The test files are the same as on
// Linux: each defines BOOST_TEST_MODULE and includes <boost/test/unit_test.hpp>.
//

#include <boost/test/included/unit_test.hpp>
