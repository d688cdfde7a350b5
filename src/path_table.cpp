//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/detail/path_table.hpp>

#include <boost/asio/detail/socket_types.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace tfo::detail {

namespace {

std::size_t hash_of(const path_key& k) noexcept
{
    std::uint64_t h = k.words[0] * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 31) ^ k.words[1]) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 29) ^ k.words[2]) * 0x94d049bb133111ebull;
    return static_cast<std::size_t>(h ^ (h >> 32));
}

// The key less its port: bytes 20 and 21, bits 32 to 47 of the third word.
constexpr std::uint64_t without_port = ~(std::uint64_t{0xffff} << 32);

std::size_t address_hash_of(const path_key& k) noexcept
{
    path_key a = k;
    a.words[2] &= without_port;
    return hash_of(a);
}

bool same_address(const path_key& a, const path_key& b) noexcept
{
    return a.words[0] == b.words[0] && a.words[1] == b.words[1] &&
           (a.words[2] & without_port) == (b.words[2] & without_port);
}

// Something counts against Fast Open here: the record is what keeps the next
// connect off a bad path, and it is kept while a healthy one can go instead.
bool against_fast_open(const path_record& r, const path_memory_options& o) noexcept
{
    return r.advice_needs_time(o) || r.refusals > 0;
}

} // namespace

path_key key_of(const boost::asio::ip::tcp::endpoint& destination) noexcept
{
    // The layout path_key describes, the rest zero. Read from the endpoint's
    // own socket address: making an `ip::address` costs more than the lookup.
    path_key k;
    auto* bytes = reinterpret_cast<unsigned char*>(k.words.data());
    const auto* raw = static_cast<const unsigned char*>(static_cast<const void*>(destination.data()));
    if (destination.protocol() == boost::asio::ip::tcp::v4())
    {
        std::memcpy(bytes, raw + offsetof(boost::asio::detail::sockaddr_in4_type, sin_addr), 4);
        bytes[22] = 4;
    }
    else
    {
        std::memcpy(bytes, raw + offsetof(boost::asio::detail::sockaddr_in6_type, sin6_addr), 16);
        std::memcpy(bytes + 16, raw + offsetof(boost::asio::detail::sockaddr_in6_type, sin6_scope_id), 4);
        bytes[22] = 6;
    }
    const auto port = destination.port();
    std::memcpy(bytes + 20, &port, sizeof port);
    return k;
}

path_table::path_table(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1))
{
}

std::size_t path_table::window_capacity() const noexcept
{
    return std::max<std::size_t>(capacity_ / 16, 1);
}

// Inline: every lookup is this (a connect's advice, and its report when the
// record moved), and a call costs a fifth of it.
inline std::size_t path_table::slot_of(const path_key& key) const noexcept
{
    const std::size_t mask = index_.size() - 1;
    std::size_t i = hash_of(key) & mask;
    while (index_[i] != empty && !(entries_[index_[i] - 1].key == key))
        i = (i + 1) & mask;
    return i;
}

std::uint32_t path_table::locate(const path_key& key) const noexcept
{
    return index_.empty() ? empty : index_[slot_of(key)];
}

path_record* path_table::find(const path_key& key) noexcept
{
    const std::uint32_t position = locate(key);
    return position == empty ? nullptr : &entries_[position - 1].record;
}

path_table::found path_table::place(std::uint32_t at, const path_key& key, tier where)
{
    entry& e = entries_[at];
    e = entry{key, path_record{}, where, false, ++stamps_};
    index_[slot_of(key)] = at + 1;
    remember_address(at);
    ++size_;
    return {&e.record, hint_of(at)};
}

bool path_table::in_window(const path_key& key) const noexcept
{
    const std::uint32_t at = locate(key);
    return at != empty && entries_[at - 1].where == tier::window;
}

path_table::found path_table::use(const path_key& key, const path_memory_options& o) noexcept
{
    const std::uint32_t at = locate(key);
    if (at == empty)
        return {};
    entry& e = entries_[at - 1];
    e.used = true;
    if (e.where == tier::window)
    {
        // A second connect while in the window: worth keeping. The main
        // record displaced gets the window's chance instead.
        if (const std::uint32_t displaced = main_victim(o); displaced != none)
        {
            entries_[displaced].where = tier::window;
            entries_[displaced].used = false;
        }
        else
            --window_count_; // main was empty: the window shrinks
        e.where = tier::main;
    }
    return {&e.record, hint_of(at - 1)};
}

path_table::found path_table::insert(const path_key& key, const path_memory_options& o)
{
    if (size_ < capacity_)
    {
        if ((size_ + 1) * 2 > index_.size())
            grow_index();
        return place(take_entry(), key, tier::main);
    }
    // Full: the new record takes a window place.
    std::uint32_t at;
    if (window_count_ < window_capacity())
        at = main_victim(o);
    else
    {
        at = window_victim();
        if (against_fast_open(entries_[at].record, o))
        {
            // It goes to main, and a main record goes instead (where there
            // is none, it goes after all).
            if (const std::uint32_t instead = main_victim(o); instead != none)
            {
                entries_[at].where = tier::main;
                --window_count_;
                at = instead;
            }
        }
    }
    drop(at);
    free_.pop_back(); // `drop` freed `at`; it is taken again at once
    ++window_count_;
    return place(at, key, tier::window);
}

void path_table::remember_address(std::uint32_t at) noexcept
{
    // A record with an RTT keeps its place; a new one takes a place that
    // speaks for nothing (empty, gone, or without a sample yet).
    std::uint32_t& cached = by_address_[address_hash_of(entries_[at].key) & (by_address_.size() - 1)];
    if (cached != empty && cached != at + 1)
    {
        const entry& e = entries_[cached - 1];
        if (e.where != tier::free && e.record.rtt_us != 0)
            return;
    }
    cached = at + 1;
}

std::uint32_t path_table::address_rtt(const path_key& key) const noexcept
{
    if (by_address_.empty())
        return 0;
    const std::uint32_t cached = by_address_[address_hash_of(key) & (by_address_.size() - 1)];
    if (cached == empty)
        return 0;
    const entry& e = entries_[cached - 1];
    return e.where != tier::free && same_address(e.key, key) ? e.record.rtt_us : 0;
}

std::uint32_t path_table::main_victim(const path_memory_options& o) noexcept
{
    // Two turns at most: the first clears every mark, so the second finds a
    // healthy record if there is one; where every main record counts
    // against Fast Open, the first one the hand met goes.
    const std::size_t n = entries_.size();
    std::uint32_t fallback = none;
    for (std::size_t step = 0; step < 2 * n; ++step)
    {
        const std::uint32_t at = main_hand_;
        main_hand_ = static_cast<std::uint32_t>((main_hand_ + 1) % n);
        entry& e = entries_[at];
        if (e.where != tier::main)
            continue;
        if (fallback == none)
            fallback = at;
        if (e.used)
        {
            e.used = false;
            continue;
        }
        if (!against_fast_open(e.record, o))
            return at;
    }
    return fallback;
}

std::uint32_t path_table::window_victim() noexcept
{
    // The window is filled in the order of the hand, so the hand meets its
    // oldest record first.
    const std::size_t n = entries_.size();
    for (;;)
    {
        const std::uint32_t at = window_hand_;
        window_hand_ = static_cast<std::uint32_t>((window_hand_ + 1) % n);
        if (entries_[at].where == tier::window)
            return at;
    }
}

void path_table::unindex(std::size_t slot) noexcept
{
    // Backward shift: the records after it in their probe run move up, so
    // that lookups need no tombstones.
    const std::size_t mask = index_.size() - 1;
    std::size_t hole = slot;
    index_[hole] = empty;
    for (std::size_t j = (hole + 1) & mask; index_[j] != empty; j = (j + 1) & mask)
    {
        const std::size_t home = hash_of(entries_[index_[j] - 1].key) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask))
        {
            index_[hole] = index_[j];
            index_[j] = empty;
            hole = j;
        }
    }
}

void path_table::drop(std::uint32_t at) noexcept
{
    entry& e = entries_[at];
    unindex(slot_of(e.key));
    if (e.where == tier::window)
        --window_count_;
    e.where = tier::free;
    --size_;
    free_.push_back(at);
}

std::uint32_t path_table::take_entry()
{
    if (!free_.empty())
    {
        const std::uint32_t at = free_.back();
        free_.pop_back();
        return at;
    }
    // Growth by half, up to the bound: a table near its bound holds little
    // unused room.
    if (entries_.size() == entries_.capacity())
        entries_.reserve(std::min(capacity_, std::max<std::size_t>(16, entries_.size() + entries_.size() / 2)));
    entries_.emplace_back();
    return static_cast<std::uint32_t>(entries_.size() - 1);
}

void path_table::grow_index()
{
    std::vector<std::uint32_t> old = std::move(index_);
    index_.assign(std::max<std::size_t>(16, old.size() * 2), empty);
    by_address_.assign(index_.size() / 2, empty); // a cache: a collision costs a hint, not a record
    for (const std::uint32_t at : old)
        if (at != empty)
        {
            index_[slot_of(entries_[at - 1].key)] = at;
            remember_address(at - 1);
        }
}

void path_table::erase(const path_key& key) noexcept
{
    const std::uint32_t at = locate(key);
    if (at != empty)
        drop(at - 1);
}

void path_table::clear() noexcept
{
    entries_.clear();
    free_.clear();
    std::fill(index_.begin(), index_.end(), empty);
    std::fill(by_address_.begin(), by_address_.end(), empty);
    size_ = 0;
    window_count_ = 0;
    main_hand_ = 0;
    window_hand_ = 0;
}

void path_table::set_capacity(std::size_t capacity, const path_memory_options& o)
{
    capacity_ = std::max<std::size_t>(capacity, 1);
    while (size_ > capacity_ || window_count_ > window_capacity())
        drop(window_count_ > 0 ? window_victim() : main_victim(o));
}

std::size_t path_table::memory_bytes() const noexcept
{
    return entries_.capacity() * sizeof(entry) +
           (free_.capacity() + index_.capacity() + by_address_.capacity()) * sizeof(std::uint32_t);
}

} // namespace tfo::detail
