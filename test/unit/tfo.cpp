// The umbrella header is self-contained and gives every public name.
#include <tfo/tfo.hpp>

#define BOOST_TEST_MODULE tfo
#include <boost/test/unit_test.hpp>

#include <type_traits>

BOOST_AUTO_TEST_CASE(umbrella_names_everything)
{
    BOOST_TEST((std::is_class_v<tfo::fast_open>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_deferred_connect>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_no_cookie>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_key>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_info>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_support>));
    BOOST_TEST((std::is_class_v<tfo::fast_open_counters>));
    BOOST_TEST((std::is_enum_v<tfo::error>));
}

// The OpenSSL parts (tfo::ssl, tfo::key_schedule) stay out of the umbrella, as
// asio.hpp leaves out asio/ssl.hpp.
#if defined(TFO_SSL_EARLY_DATA_HPP) || defined(TFO_SSL_SESSION_CACHE_HPP) || defined(OPENSSL_SSL_H) || \
    defined(TFO_KEY_SCHEDULE_HPP) || defined(OPENSSL_HMAC_H)
#error "tfo/tfo.hpp must not include the OpenSSL parts"
#endif
