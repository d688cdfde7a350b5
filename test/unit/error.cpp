//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
#include <tfo/error.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_error)

BOOST_AUTO_TEST_CASE(every_value_has_a_sentence)
{
    for (int v = 1; v <= static_cast<int>(tfo::error::multipath_unavailable); ++v)
    {
        boost::system::error_code ec = static_cast<tfo::error>(v);
        BOOST_TEST(std::string(ec.category().name()) == "tfo");
        const std::string message = ec.message();
        BOOST_TEST(message != "Unknown tfo error.");
        BOOST_TEST(message.back() == '.');
    }
    BOOST_TEST(boost::system::error_code(999, tfo::error_category()).message() == "Unknown tfo error.");
}

BOOST_AUTO_TEST_CASE(compares_with_the_enum)
{
    boost::system::error_code ec = tfo::error::invalid_key_size;
    BOOST_TEST((ec == tfo::error::invalid_key_size));
    BOOST_TEST((ec != tfo::error::not_supported));
    BOOST_TEST(static_cast<bool>(ec));
}

BOOST_AUTO_TEST_SUITE_END() // unit_error
