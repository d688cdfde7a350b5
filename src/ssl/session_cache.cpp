//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/ssl/session_cache.hpp>

#include <algorithm>
#include <ctime>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tfo::ssl {
namespace {

// RFC 8446, section 4.6.1: a ticket lives at most 7 days.
constexpr long longest_ticket_lifetime = 7L * 24 * 3600;

struct session_deleter
{
    void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

std::string make_key(std::string_view host, std::uint16_t port)
{
    std::string key(host);
    key += ':';
    key += std::to_string(port);
    return key;
}

// When the session stops being usable, in seconds since the epoch.
long expiry_of(const SSL_SESSION* s)
{
    long lifetime = std::min(SSL_SESSION_get_timeout(s), longest_ticket_lifetime);
    if (SSL_SESSION_get_protocol_version(s) == TLS1_3_VERSION)
    {
        const unsigned long hint = SSL_SESSION_get_ticket_lifetime_hint(s);
        if (hint > 0)
            lifetime = std::min(lifetime, static_cast<long>(std::min<unsigned long>(hint, longest_ticket_lifetime)));
    }
    return SSL_SESSION_get_time(s) + lifetime;
}

} // namespace

struct detail::session_store
{
    using limits = session_cache::limits;

    struct ticket
    {
        session_ptr session;
        long expires = 0;
    };
    struct server
    {
        std::deque<ticket> tickets; // oldest first
        std::list<std::string>::iterator recency;
    };

    explicit session_store(limits l) : bounds(l) {}

    // Drops what expired; with the lock held.
    static void purge(server& s, long now)
    {
        std::erase_if(s.tickets, [now](const ticket& t) { return t.expires <= now; });
    }

    void touch(server& s) { recent.splice(recent.begin(), recent, s.recency); }

    void erase(std::unordered_map<std::string, server>::iterator it)
    {
        recent.erase(it->second.recency);
        servers.erase(it);
    }

    void insert(const std::string& key, SSL_SESSION* session)
    {
        if (session == nullptr || !SSL_SESSION_is_resumable(session))
            return;
        session_ptr copy(SSL_SESSION_dup(session));
        if (!copy || !SSL_SESSION_is_resumable(copy.get()))
            return;
        const long expires = expiry_of(copy.get());
        const long now = static_cast<long>(std::time(nullptr));
        if (expires <= now)
            return;

        std::lock_guard lock(mutex);
        auto it = servers.find(key);
        if (it == servers.end())
        {
            if (servers.size() >= bounds.servers)
                erase(servers.find(recent.back()));
            recent.push_front(key);
            it = servers.emplace(key, server{{}, recent.begin()}).first;
        }
        else
            touch(it->second);
        server& s = it->second;
        purge(s, now);
        s.tickets.push_back(ticket{std::move(copy), expires});
        while (s.tickets.size() > bounds.tickets_per_server)
            s.tickets.pop_front();
    }

    // The newest valid session, taken out when it is a TLS 1.3 ticket.
    session_ptr take(const std::string& key)
    {
        const long now = static_cast<long>(std::time(nullptr));
        std::lock_guard lock(mutex);
        const auto it = servers.find(key);
        if (it == servers.end())
            return nullptr;
        server& s = it->second;
        purge(s, now);
        if (s.tickets.empty())
        {
            erase(it);
            return nullptr;
        }
        touch(s);
        if (SSL_SESSION_get_protocol_version(s.tickets.back().session.get()) != TLS1_3_VERSION)
        {
            SSL_SESSION_up_ref(s.tickets.back().session.get());
            return session_ptr(s.tickets.back().session.get());
        }
        session_ptr taken = std::move(s.tickets.back().session);
        s.tickets.pop_back();
        if (s.tickets.empty())
            erase(it);
        return taken;
    }

    std::size_t count(const std::string& key) const
    {
        const long now = static_cast<long>(std::time(nullptr));
        std::lock_guard lock(mutex);
        const auto it = servers.find(key);
        if (it == servers.end())
            return 0;
        return static_cast<std::size_t>(std::ranges::count_if(
            it->second.tickets, [now](const ticket& t) { return t.expires > now; }));
    }

    std::size_t size() const
    {
        const long now = static_cast<long>(std::time(nullptr));
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& entry : servers)
            n += static_cast<std::size_t>(std::ranges::count_if(
                entry.second.tickets, [now](const ticket& t) { return t.expires > now; }));
        return n;
    }

    void clear()
    {
        std::lock_guard lock(mutex);
        servers.clear();
        recent.clear();
    }

    const limits bounds;
    mutable std::mutex mutex;
    std::unordered_map<std::string, server> servers;
    std::list<std::string> recent; // most recently used first
};

namespace {

// What a connection prepared by `resume` carries, in its ex_data: where the
// tickets it receives go. The shared state outlives the cache object if a
// connection outlives it.
struct connection_tag
{
    std::shared_ptr<detail::session_store> cache;
    std::string key;
};

void free_tag(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*)
{
    delete static_cast<connection_tag*>(ptr);
}

// SSL_dup copies the pointer first; give the copy its own tag.
int dup_tag(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from_d, int, long, void*)
{
    auto** slot = reinterpret_cast<connection_tag**>(from_d);
    if (*slot != nullptr)
        *slot = new connection_tag(**slot);
    return 1;
}

int tag_index()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, dup_tag, free_tag);
    return index;
}

int on_new_session(SSL* ssl, SSL_SESSION* session)
{
    if (const auto* tag = static_cast<connection_tag*>(SSL_get_ex_data(ssl, tag_index())))
        tag->cache->insert(tag->key, session);
    return 0; // OpenSSL keeps its reference; the cache stored a copy
}

} // namespace

session_cache::session_cache(boost::asio::ssl::context& context) : session_cache(context, limits{}) {}

session_cache::session_cache(boost::asio::ssl::context& context, limits bounds)
    : state_(std::make_shared<detail::session_store>(limits{std::max<std::size_t>(bounds.servers, 1),
                                            std::max<std::size_t>(bounds.tickets_per_server, 1)}))
{
    install(context.native_handle());
}

session_cache::~session_cache() = default;

void session_cache::install(SSL_CTX* context)
{
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(context, on_new_session);
}

bool session_cache::resume(SSL* ssl, std::string_view host, std::uint16_t port)
{
    std::string key = make_key(host, port);
    session_ptr session = state_->take(key);
    auto* tag = new connection_tag{state_, std::move(key)};
    delete static_cast<connection_tag*>(SSL_get_ex_data(ssl, tag_index()));
    SSL_set_ex_data(ssl, tag_index(), tag);
    return session && SSL_set_session(ssl, session.get()) == 1; // SSL_set_session takes its own reference
}

void session_cache::insert(std::string_view host, std::uint16_t port, SSL_SESSION* session)
{
    state_->insert(make_key(host, port), session);
}

std::size_t session_cache::count(std::string_view host, std::uint16_t port) const
{
    return state_->count(make_key(host, port));
}

std::size_t session_cache::size() const { return state_->size(); }

void session_cache::clear() { state_->clear(); }

} // namespace tfo::ssl
