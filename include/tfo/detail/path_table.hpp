//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The path memory's records, keyed by destination, in a bounded amount of
// memory: a flat table (records in one array, an open-addressing index of
// 32-bit positions), whose cost per lookup does not depend on how many
// destinations there are. Free of locks and clocks; the service
// (src/path_memory.cpp) holds its lock around it.
//
// What goes when the table is full, so that a round robin over more
// destinations than it holds does not wipe it (as least-recently-used would,
// one destination at a time):
// - Records are `main` or `window`. While there is room every new record is
//   main. Once the table is full, a new destination's record enters a window
//   of capacity/16 records (at least 1), replacing the window's oldest: a
//   destination seen once and not again soon costs nothing lasting.
// - A window record asked for advice again (a second connect there) moves to
//   main; the main record it displaces moves to the window. That one is found
//   by a clock hand: a main record asked for advice since the hand last
//   passed is skipped once (and its mark cleared).
// - A record with something against Fast Open (a back-off, refusals, a
//   probe) is never the one displaced or dropped while a healthy record can
//   be: it is what protects a connect from a bad path. A window record of
//   that kind moves to main instead of leaving.
//

#ifndef TFO_DETAIL_PATH_TABLE_HPP
#define TFO_DETAIL_PATH_TABLE_HPP

#include <tfo/detail/path_record.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tfo::detail {

/// A destination as the table keys it: address, scope and port in 24 bytes
/// (`key_of` lays them out: bytes 0-15 the address, an IPv4 one in the
/// first 4; 16-19 the IPv6 scope; 20-21 the port; 22 the family, 4 or 6).
struct path_key
{
    std::array<std::uint64_t, 3> words{};

    /// The address's bytes: the first `address_length()` of them.
    const unsigned char* address() const noexcept { return reinterpret_cast<const unsigned char*>(words.data()); }

    /// 4 for IPv4, 16 for IPv6.
    std::size_t address_length() const noexcept { return address()[22] == 4 ? 4 : 16; }

    friend bool operator==(const path_key& a, const path_key& b) noexcept
    {
        // Three words, not a call to memcmp.
        return ((a.words[0] ^ b.words[0]) | (a.words[1] ^ b.words[1]) | (a.words[2] ^ b.words[2])) == 0;
    }
};

/// The key of `destination`.
path_key key_of(const boost::asio::ip::tcp::endpoint& destination) noexcept;

class path_table
{
public:
    /// A table for at most `capacity` records (at least 1).
    explicit path_table(std::size_t capacity = 1);

    /// A record and where it is: a hint for `at` (0: nowhere),
    /// its place and the stamp the place got when the record was made.
    struct found
    {
        path_record* record = nullptr;
        std::uint64_t hint = 0;
    };

    /// The record `hint` (from `use` or `insert`) names, while that record
    /// is still there; null once it went (its place may hold another
    /// destination's record by now). No lookup, and no key needed.
    path_record* at(std::uint64_t hint) noexcept;

    /// The record of `key`, or null. Changes nothing.
    path_record* find(const path_key& key) noexcept;

    /// The record of `key` for a connect's advice, or null: marks it used
    /// and moves a window record to main.
    found use(const path_key& key, const path_memory_options& o) noexcept;

    /// Makes the record of `key`, which must not be there; when the table is
    /// full another record goes (see above). The record is valid until the
    /// table changes.
    found insert(const path_key& key, const path_memory_options& o);

    /// The last round-trip time sample of another destination at the same
    /// address (another port), 0 when none is known: the path to an address
    /// is the same whatever the port. From a cache of one record per
    /// address, checked on use.
    std::uint32_t address_rtt(const path_key& key) const noexcept;

    /// Forgets `key`'s record, if any.
    void erase(const path_key& key) noexcept;

    /// Forgets every record.
    void clear() noexcept;

    /// A new bound; records go if there are more.
    void set_capacity(std::size_t capacity, const path_memory_options& o);

    /// Records held.
    std::size_t size() const noexcept { return size_; }

    /// Records held in the window.
    std::size_t window_size() const noexcept { return window_count_; }

    /// Whether `key`'s record is in the window (false: in main, or absent).
    bool in_window(const path_key& key) const noexcept;

    /// Heap memory held, in bytes.
    std::size_t memory_bytes() const noexcept;

private:
    enum class tier : std::uint8_t
    {
        free,
        main,
        window
    };

    struct entry
    {
        path_key key;
        path_record record;
        tier where = tier::free;
        bool used = false; // asked for advice since the clock hand last passed
        std::uint32_t stamp = 0; // of the record made here last
    };

    static constexpr std::uint32_t empty = 0;           // in the index: entry position + 1
    static constexpr std::uint32_t none = 0xffffffffu;  // no entry

    std::size_t window_capacity() const noexcept;
    std::size_t slot_of(const path_key& key) const noexcept; // its slot, or the empty slot where it would go
    std::uint32_t locate(const path_key& key) const noexcept; // entry position + 1, or empty
    void unindex(std::size_t slot) noexcept;
    void remember_address(std::uint32_t at) noexcept; // entry `at` speaks for its address
    void grow_index();
    std::uint32_t main_victim(const path_memory_options& o) noexcept; // `none` where main is empty
    std::uint32_t window_victim() noexcept;
    void drop(std::uint32_t at) noexcept; // removes entry `at` from the index and frees it
    std::uint32_t take_entry();           // a free entry's position
    found place(std::uint32_t at, const path_key& key, tier where); // a new record at entry `at`
    std::uint64_t hint_of(std::uint32_t at) const noexcept // of entry `at`'s record
    {
        return std::uint64_t{entries_[at].stamp} << 32 | (at + 1);
    }

    std::size_t capacity_;
    std::size_t size_ = 0;
    std::size_t window_count_ = 0;
    std::vector<entry> entries_;
    std::vector<std::uint32_t> free_;
    std::vector<std::uint32_t> index_; // power-of-two size, linear probing
    std::vector<std::uint32_t> by_address_; // half as large: entry position + 1 of a record per address hash
    std::uint32_t main_hand_ = 0;
    std::uint32_t window_hand_ = 0;
    std::uint32_t stamps_ = 0; // records made so far (wrapping)
};

inline path_record* path_table::at(std::uint64_t hint) noexcept
{
    // The low half: the entry's position + 1; the high half: its stamp.
    const auto position = static_cast<std::uint32_t>(hint);
    if (position == empty || position > entries_.size())
        return nullptr;
    entry& e = entries_[position - 1];
    return e.where != tier::free && e.stamp == static_cast<std::uint32_t>(hint >> 32) ? &e.record : nullptr;
}

} // namespace tfo::detail

#endif
