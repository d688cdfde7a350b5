//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The session cache without a network: sessions made by hand.
//

#include <tfo/ssl/session_cache.hpp>

#include <boost/test/unit_test.hpp>

#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// One suite per file: the test programs hold several files (test/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(unit_ssl_session_cache)

namespace ssl = boost::asio::ssl;

namespace {

struct session_deleter
{
    void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

struct ssl_deleter
{
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

// A resumable session whose id is `id`, issued `age` seconds ago for `lifetime` seconds.
session_ptr make_session(unsigned char id, int version = TLS1_3_VERSION, long age = 0, long lifetime = 7200)
{
    session_ptr s(SSL_SESSION_new());
    const unsigned char bytes[32] = {id};
    SSL_SESSION_set1_id(s.get(), bytes, sizeof bytes);
    SSL_SESSION_set_protocol_version(s.get(), version);
    SSL_SESSION_set_time(s.get(), static_cast<long>(std::time(nullptr)) - age);
    SSL_SESSION_set_timeout(s.get(), lifetime);
    return s;
}

unsigned char id_of(const SSL_SESSION* s)
{
    unsigned int length = 0;
    const unsigned char* id = SSL_SESSION_get_id(s, &length);
    return length > 0 ? id[0] : 0;
}

struct fixture
{
    ssl::context context{ssl::context::tls_client};
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(session_cache, fixture)

BOOST_AUTO_TEST_CASE(installs_the_client_callback)
{
    tfo::ssl::session_cache cache(context);
    const long mode = SSL_CTX_get_session_cache_mode(context.native_handle());
    BOOST_TEST((mode & SSL_SESS_CACHE_CLIENT) != 0);
    BOOST_TEST((mode & SSL_SESS_CACHE_NO_INTERNAL_STORE) != 0);
    BOOST_TEST(SSL_CTX_sess_get_new_cb(context.native_handle()) != nullptr);
}

BOOST_AUTO_TEST_CASE(newest_ticket_first_and_once)
{
    tfo::ssl::session_cache cache(context);
    cache.insert("example.com", 443, make_session(1).get());
    cache.insert("example.com", 443, make_session(2).get());
    BOOST_TEST(cache.count("example.com", 443) == 2u);
    BOOST_TEST(cache.size() == 2u);

    ssl_ptr a(SSL_new(context.native_handle()));
    BOOST_TEST(cache.resume(a.get(), "example.com", 443));
    BOOST_TEST(id_of(SSL_get_session(a.get())) == 2);
    ssl_ptr b(SSL_new(context.native_handle()));
    BOOST_TEST(cache.resume(b.get(), "example.com", 443));
    BOOST_TEST(id_of(SSL_get_session(b.get())) == 1);
    ssl_ptr c(SSL_new(context.native_handle()));
    BOOST_TEST(!cache.resume(c.get(), "example.com", 443));
    BOOST_TEST(SSL_get_session(c.get()) == nullptr);
    BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_tls12_session_is_reused)
{
    tfo::ssl::session_cache cache(context);
    cache.insert("example.com", 443, make_session(7, TLS1_2_VERSION).get());
    for (int i = 0; i < 3; ++i)
    {
        ssl_ptr s(SSL_new(context.native_handle()));
        BOOST_TEST(cache.resume(s.get(), "example.com", 443));
        BOOST_TEST(id_of(SSL_get_session(s.get())) == 7);
    }
    BOOST_TEST(cache.count("example.com", 443) == 1u);
}

BOOST_AUTO_TEST_CASE(keyed_by_host_and_port)
{
    tfo::ssl::session_cache cache(context);
    cache.insert("example.com", 443, make_session(1).get());
    cache.insert("example.com", 8443, make_session(2).get());
    cache.insert("example.org", 443, make_session(3).get());
    ssl_ptr s(SSL_new(context.native_handle()));
    BOOST_TEST(cache.resume(s.get(), "example.com", 8443));
    BOOST_TEST(id_of(SSL_get_session(s.get())) == 2);
    BOOST_TEST(cache.count("example.com", 443) == 1u);
    BOOST_TEST(cache.count("example.org", 443) == 1u);
    BOOST_TEST(cache.count("example.org", 8443) == 0u);
}

BOOST_AUTO_TEST_CASE(expired_and_unusable_sessions_are_never_handed_out)
{
    tfo::ssl::session_cache cache(context);
    cache.insert("a", 1, make_session(1, TLS1_3_VERSION, 100, 10).get()); // expired 90 s ago
    session_ptr no_id(SSL_SESSION_new());
    SSL_SESSION_set_protocol_version(no_id.get(), TLS1_3_VERSION);
    cache.insert("a", 1, no_id.get()); // not resumable
    cache.insert("a", 1, nullptr);
    BOOST_TEST(cache.count("a", 1) == 0u);

    // Lifetimes are capped at 7 days (RFC 8446, section 4.6.1).
    cache.insert("a", 1, make_session(2, TLS1_3_VERSION, 8 * 24 * 3600, 30 * 24 * 3600).get());
    BOOST_TEST(cache.count("a", 1) == 0u);
    ssl_ptr s(SSL_new(context.native_handle()));
    BOOST_TEST(!cache.resume(s.get(), "a", 1));
}

BOOST_AUTO_TEST_CASE(bounded_per_server_oldest_go_first)
{
    tfo::ssl::session_cache cache(context, {.servers = 10, .tickets_per_server = 3});
    for (unsigned char id = 1; id <= 5; ++id)
        cache.insert("a", 1, make_session(id).get());
    BOOST_TEST(cache.count("a", 1) == 3u);
    for (unsigned char expected : {5, 4, 3})
    {
        ssl_ptr s(SSL_new(context.native_handle()));
        BOOST_TEST(cache.resume(s.get(), "a", 1));
        BOOST_TEST(id_of(SSL_get_session(s.get())) == expected);
    }
}

BOOST_AUTO_TEST_CASE(bounded_servers_least_recently_used_goes_first)
{
    tfo::ssl::session_cache cache(context, {.servers = 2, .tickets_per_server = 4});
    cache.insert("a", 1, make_session(1).get());
    cache.insert("a", 1, make_session(2).get());
    cache.insert("b", 1, make_session(3).get());
    ssl_ptr s(SSL_new(context.native_handle()));
    BOOST_TEST(cache.resume(s.get(), "a", 1)); // "a" is now the most recently used
    cache.insert("c", 1, make_session(4).get());
    BOOST_TEST(cache.count("a", 1) == 1u);
    BOOST_TEST(cache.count("b", 1) == 0u);
    BOOST_TEST(cache.count("c", 1) == 1u);
}

BOOST_AUTO_TEST_CASE(clear_forgets_everything)
{
    tfo::ssl::session_cache cache(context);
    cache.insert("a", 1, make_session(1).get());
    cache.insert("b", 2, make_session(2).get());
    cache.clear();
    BOOST_TEST(cache.size() == 0u);
}

// Connections on several threads store and take tickets at once (run under
// TSan in CI).
BOOST_AUTO_TEST_CASE(thread_safe)
{
    tfo::ssl::session_cache cache(context, {.servers = 8, .tickets_per_server = 4});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            const std::string host = "h" + std::to_string(t % 2);
            for (int i = 0; i < 500; ++i)
            {
                cache.insert(host, 443, make_session(static_cast<unsigned char>(i % 250 + 1)).get());
                ssl_ptr s(SSL_new(context.native_handle()));
                cache.resume(s.get(), host, 443);
                (void)cache.size();
            }
        });
    for (auto& t : threads)
        t.join();
    BOOST_TEST(cache.count("h0", 443) <= 4u);
    BOOST_TEST(cache.count("h1", 443) <= 4u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // unit_ssl_session_cache
