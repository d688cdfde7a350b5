//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// main() of every test program. A program holds the files of one family
// (test/CMakeLists.txt); each file is one suite named after its CTest test,
// which runs the program with --run_test=<that suite>.
//
// Where there is no Boost.Test library for the target (the mingw-w64 build)
// the framework's header-only variant is compiled here, once per program.
//

#define BOOST_TEST_MODULE tfo
#if defined(TFO_TEST_HEADER_ONLY)
#include <boost/test/included/unit_test.hpp>
#else
#include <boost/test/unit_test.hpp>
#endif
