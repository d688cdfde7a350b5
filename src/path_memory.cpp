//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The path memory service: records (detail/path_record.hpp decides) in a
// bounded flat table (detail/path_table.hpp) under one mutex, counters, the
// clock, and the kernel's tcp_metrics table, read whole at most once per
// `kernel_read_interval`.
//

#include <tfo/detail/path_memory_access.hpp>
#include <tfo/detail/path_record.hpp>
#include <tfo/detail/path_table.hpp>
#include <tfo/detail/platform.hpp>
#include <tfo/detail/throw_error.hpp>
#include <tfo/path_memory.hpp>

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <tuple>
#include <vector>

namespace tfo {

namespace {

using time_point = path_memory::clock_type::time_point;

// The lock around the records: every connect takes it twice (advice, then
// report) for a few dozen instructions of work, almost always uncontended.
// std::mutex costs about 60 instructions a lock and unlock there (glibc's
// pthread_mutex_lock checks the mutex kind first); this costs one atomic
// instruction each way, and sleeps on a futex when contended (Drepper,
// "Futexes are tricky", mutex 3). 0: free; 1: locked; 2: locked, and some
// thread may be asleep waiting.
class records_mutex
{
public:
    void lock() noexcept
    {
        int state = 0;
        if (state_.compare_exchange_strong(state, 1, std::memory_order_acquire, std::memory_order_relaxed))
            return;
        if (state != 2)
            state = state_.exchange(2, std::memory_order_acquire);
        while (state != 0)
        {
            state_.wait(2, std::memory_order_relaxed);
            state = state_.exchange(2, std::memory_order_acquire);
        }
    }

    void unlock() noexcept
    {
        if (state_.fetch_sub(1, std::memory_order_release) != 1)
        {
            state_.store(0, std::memory_order_release);
            state_.notify_one();
        }
    }

private:
    std::atomic<int> state_{0};
};

// What the kernel's tcp_metrics table said about one address, kept for
// seeding records: only entries with something to say (an RTT, SYN drops).
struct kernel_entry
{
    std::array<unsigned char, 16> address{};
    std::uint8_t length = 0;     // 4 or 16
    std::uint16_t syn_drops = 0; // in a row
    std::uint32_t rtt_us = 0;
    time_point last_drop{}; // when syn_drops > 0

    auto ordering() const { return std::tie(length, address); }
};

// The kernel's table as last read, sorted by address.
class kernel_table
{
public:
    // Reads it (netlink; call without the lock). `now` is when.
    static kernel_table read(time_point now, boost::system::error_code& ec)
    {
        kernel_table t;
        t.read_at_ = now;
        t.made_ = true;
        detail::platform::dump_kernel_path_records(
            [&](const unsigned char* address, std::size_t length, const kernel_path_record& k) {
                if (k.rtt.count() <= 0 && k.syn_drops == 0)
                    return;
                kernel_entry e;
                std::memcpy(e.address.data(), address, length);
                e.length = static_cast<std::uint8_t>(length);
                e.syn_drops = k.syn_drops;
                e.rtt_us = static_cast<std::uint32_t>(std::min<std::int64_t>(k.rtt.count(), 0xffffffff));
                if (k.syn_drops > 0 && k.syn_drop_age.count() >= 0)
                    e.last_drop = now - k.syn_drop_age;
                else
                    e.syn_drops = 0;
                t.entries_.push_back(e);
            },
            ec);
        std::sort(t.entries_.begin(), t.entries_.end(),
                  [](const kernel_entry& a, const kernel_entry& b) { return a.ordering() < b.ordering(); });
        // An address with entries for several source addresses: the one
        // with the most drops speaks for it.
        auto out = t.entries_.begin();
        for (auto it = t.entries_.begin(); it != t.entries_.end(); ++it)
        {
            if (out != t.entries_.begin() && std::prev(out)->ordering() == it->ordering())
            {
                auto& kept = *std::prev(out);
                if (it->syn_drops > kept.syn_drops)
                    kept = *it;
                continue;
            }
            *out++ = *it;
        }
        t.entries_.erase(out, t.entries_.end());
        t.entries_.shrink_to_fit();
        t.read_ = !ec;
        return t;
    }

    // Whether a read was made, not expired, and is younger than `interval` at `now`.
    bool fresh(time_point now, std::chrono::milliseconds interval) const noexcept
    {
        return made_ && now - read_at_ < interval;
    }

    // Whether the last read succeeded: records seeded from it say so.
    bool read() const noexcept { return read_; }

    // The next new destination reads it again.
    void expire() noexcept { made_ = false; }

    // Seeds `r`, the new record of `destination`, at `now`.
    void seed(detail::path_record& r, const detail::path_key& destination, time_point now,
              const path_memory_options& o) const
    {
        // As an entry holds it: the address's bytes, the rest zero.
        kernel_entry key;
        std::memcpy(key.address.data(), destination.address(), destination.address_length());
        key.length = static_cast<std::uint8_t>(destination.address_length());
        kernel_path_record k;
        const auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                                         [](const kernel_entry& a, const kernel_entry& b) {
                                             return a.ordering() < b.ordering();
                                         });
        if (it != entries_.end() && it->ordering() == key.ordering())
        {
            k.found = true;
            k.rtt = std::chrono::microseconds(it->rtt_us);
            k.syn_drops = it->syn_drops;
            if (it->syn_drops > 0)
                k.syn_drop_age = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->last_drop);
        }
        detail::seed(r, k, now, o);
    }

    std::size_t memory_bytes() const noexcept { return entries_.capacity() * sizeof(kernel_entry); }

private:
    std::vector<kernel_entry> entries_;
    time_point read_at_{};
    bool made_ = false; // by `read`, and not expired since
    bool read_ = false;
};

} // namespace

struct path_memory::impl
{
    mutable records_mutex mutex;
    path_memory_options options;
    std::function<clock_type::time_point()> clock;
    detail::path_table records{options.max_destinations};
    path_memory_counters counters;
    kernel_table kernel;
    std::mutex kernel_reading; // one read of the kernel's table at a time

    clock_type::time_point now() const { return clock ? clock() : clock_type::now(); }

    bool kernel_fresh(time_point at) const noexcept
    {
        return kernel.fresh(at, options.kernel_read_interval);
    }

    // A new record for `key`, seeded from the kernel's table where
    // it was read. Called with the mutex held.
    detail::path_table::found make_record(const detail::path_key& key)
    {
        // What this process measured itself at the address (another port)
        // is fresher than the kernel's table as last read.
        const std::uint32_t sibling_rtt = records.address_rtt(key);
        const detail::path_table::found made = records.insert(key, options);
        if (options.seed_from_kernel && kernel.read())
            kernel.seed(*made.record, key, now(), options);
        if (sibling_rtt != 0)
            made.record->rtt_us = sibling_rtt;
        return made;
    }
};

boost::asio::execution_context::id path_memory::id;

namespace {

// Changes whenever a path memory goes: a context's address found in a
// thread's cache below names the same path memory only while it is unchanged.
std::atomic<std::uint64_t> path_memories_destroyed{0};

} // namespace

path_memory::path_memory(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context), impl_(std::make_unique<impl>())
{
}

path_memory::~path_memory()
{
    path_memories_destroyed.fetch_add(1, std::memory_order_relaxed);
}

path_memory& detail::path_memory_access::of(boost::asio::execution_context& context)
{
    // Asio's service registry takes a lock and walks a list on every lookup;
    // a connect looks its context's path memory up once, usually the same
    // one as the connect before it on this thread.
    struct cached
    {
        boost::asio::execution_context* context = nullptr;
        path_memory* memory = nullptr;
        std::uint64_t generation = 0;
    };
    thread_local cached last;
    const std::uint64_t generation = path_memories_destroyed.load(std::memory_order_relaxed);
    if (last.context != &context || last.generation != generation)
        last = {&context, &boost::asio::use_service<path_memory>(context), generation};
    return *last.memory;
}

void path_memory::shutdown()
{
}

void path_memory::set_options(const path_memory_options& options)
{
    std::lock_guard lock(impl_->mutex);
    impl_->options = options;
    impl_->records.set_capacity(options.max_destinations, options);
}

path_memory_options path_memory::options() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->options;
}

void path_memory::set_clock(std::function<clock_type::time_point()> now)
{
    std::lock_guard lock(impl_->mutex);
    impl_->clock = std::move(now);
}

destination_state path_memory::state(const boost::asio::ip::tcp::endpoint& destination) const
{
    std::lock_guard lock(impl_->mutex);
    const detail::path_record* r = impl_->records.find(detail::key_of(destination));
    if (!r)
        return {};
    return detail::state_of(*r, impl_->now(), impl_->options);
}

path_memory_counters path_memory::counters() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->counters;
}

std::size_t path_memory::memory_bytes() const
{
    std::lock_guard lock(impl_->mutex);
    return sizeof(impl) + impl_->records.memory_bytes() + impl_->kernel.memory_bytes();
}

std::size_t path_memory::size() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->records.size();
}

detail::path_advice path_memory::advise(const boost::asio::ip::tcp::endpoint& destination, bool may_hedge,
                                        bool may_read_kernel)
{
    std::lock_guard lock(impl_->mutex);
    auto& m = *impl_;
    if (!m.options.enabled)
        return {};
    const detail::path_key key = detail::key_of(destination);
    detail::path_table::found f = m.records.use(key, m.options);
    if (!f.record)
    {
        if (may_read_kernel && m.options.seed_from_kernel && !m.kernel_fresh(m.now()))
        {
            detail::path_advice read_first;
            read_first.read_kernel_record = true;
            return read_first;
        }
        f = m.make_record(key);
    }
    // A destination with nothing against Fast Open needs no time.
    const auto now = f.record->advice_needs_time(m.options) ? m.now() : time_point{};
    detail::path_advice a = detail::advise(*f.record, now, m.options, may_hedge);
    a.record = f.hint;
    ++m.counters.attempts;
    if (!a.fast_open)
        ++m.counters.plain;
    if (a.probe)
        ++m.counters.probes;
    return a;
}

void path_memory::report(const boost::asio::ip::tcp::endpoint& destination, const detail::path_event& event)
{
    using kind = detail::path_event_kind;
    std::lock_guard lock(impl_->mutex);
    auto& m = *impl_;
    if (!m.options.enabled)
        return;
    auto& c = m.counters;
    if (event.hedge_started)
        ++c.hedges_started;
    switch (event.kind)
    {
    case kind::fast_open_acked: ++c.successes; break;
    case kind::syn_lost: ++c.losses; break;
    case kind::hedge_won: ++c.losses; ++c.hedges_won; break;
    case kind::data_refused: ++c.refusals; break;
    case kind::reset_on_syn_data: ++c.resets; break;
    default: break;
    }
    if (event.kind == kind::none && event.rtt_us == 0)
        return;
    // Where the advice found the record: no key, no lookup.
    detail::path_record* r = m.records.at(event.record);
    if (!r) // gone since the advice (more destinations than the bound), or never advised (`observe`)
    {
        const detail::path_key key = detail::key_of(destination);
        r = m.records.find(key);
        if (!r)
            r = m.make_record(key).record;
    }
    detail::update(*r, event, detail::update_needs_time(event) ? m.now() : time_point{}, m.options);
}

void path_memory::read_kernel_table()
{
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->options.enabled || !impl_->options.seed_from_kernel || impl_->kernel_fresh(impl_->now()))
            return;
    }
    // One thread reads; one that finds a read under way goes on with what
    // there is. The netlink exchange happens outside the lock: other
    // threads' connects do not wait for it.
    std::unique_lock reading(impl_->kernel_reading, std::try_to_lock);
    if (!reading)
        return;
    time_point at;
    {
        std::lock_guard lock(impl_->mutex);
        at = impl_->now();
        if (impl_->kernel_fresh(at))
            return; // read by another thread meanwhile
    }
    boost::system::error_code ec;
    kernel_table fresh = kernel_table::read(at, ec);
    std::lock_guard lock(impl_->mutex);
    impl_->kernel = std::move(fresh);
    ++impl_->counters.kernel_reads;
}

bool path_memory::use_deferred_connect(const boost::asio::ip::tcp::endpoint& destination)
{
    detail::path_advice a = advise(destination, false, true);
    if (a.read_kernel_record)
    {
        read_kernel_table();
        a = advise(destination, false, false);
    }
    return a.fast_open;
}

void path_memory::observe(const boost::asio::ip::tcp::endpoint& destination,
                          boost::asio::ip::tcp::socket::native_handle_type connection, bool fast_open)
{
    report(destination, detail::classify(detail::platform::read_syn_evidence(connection), fast_open));
}

void path_memory::forget(const boost::asio::ip::tcp::endpoint& destination)
{
    std::lock_guard lock(impl_->mutex);
    impl_->records.erase(detail::key_of(destination));
    impl_->kernel.expire();
}

void path_memory::clear()
{
    std::lock_guard lock(impl_->mutex);
    impl_->records.clear();
    impl_->kernel.expire();
}

std::string_view to_string(path_reason r) noexcept
{
    switch (r)
    {
    case path_reason::none: return "none";
    case path_reason::syn_lost: return "SYN lost";
    case path_reason::data_refused: return "SYN data refused";
    case path_reason::reset_on_syn_data: return "reset in answer to SYN data";
    case path_reason::kernel_syn_drops: return "SYN drops recorded by the kernel";
    }
    return "unknown";
}

kernel_path_record read_kernel_path_record(const boost::asio::ip::address& address, boost::system::error_code& ec)
{
    if (address.is_v4())
    {
        const auto bytes = address.to_v4().to_bytes();
        return detail::platform::read_kernel_path_record(bytes.data(), bytes.size(), ec);
    }
    const auto bytes = address.to_v6().to_bytes();
    return detail::platform::read_kernel_path_record(bytes.data(), bytes.size(), ec);
}

kernel_path_record read_kernel_path_record(const boost::asio::ip::address& address)
{
    return detail::call_or_throw("tfo::read_kernel_path_record",
                                 [&](boost::system::error_code& ec) { return read_kernel_path_record(address, ec); });
}

} // namespace tfo
