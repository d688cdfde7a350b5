//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The path memory service: records (detail/path_record.hpp decides) in a map
// under one mutex, counters, the clock, and the kernel's tcp_metrics read
// once per destination address.
//

#include <tfo/detail/path_record.hpp>
#include <tfo/detail/platform.hpp>
#include <tfo/detail/throw_error.hpp>
#include <tfo/path_memory.hpp>

#include <boost/system/system_error.hpp>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace tfo {

namespace {

// Address and port, mixed from the endpoint's own bytes: building an
// `ip::address` to hash it costs more than the rest of a lookup.
struct endpoint_hash
{
    std::size_t operator()(const boost::asio::ip::tcp::endpoint& e) const noexcept
    {
        std::uint64_t h = e.port();
        const auto* bytes = static_cast<const unsigned char*>(static_cast<const void*>(e.data()));
        // The address: 4 bytes at offset 4 (sockaddr_in), 16 at offset 8 (sockaddr_in6).
        const std::size_t at = e.protocol() == boost::asio::ip::tcp::v4() ? 4 : 8;
        const std::size_t n = e.protocol() == boost::asio::ip::tcp::v4() ? 4 : 16;
        for (std::size_t i = 0; i < n; i += 4)
        {
            std::uint32_t word;
            std::memcpy(&word, bytes + at + i, sizeof word);
            h = (h ^ word) * 0x9e3779b97f4a7c15ull;
        }
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

} // namespace

struct path_memory::impl
{
    mutable std::mutex mutex;
    path_memory_options options;
    std::function<clock_type::time_point()> clock;
    std::unordered_map<boost::asio::ip::tcp::endpoint, detail::path_record, endpoint_hash> records;
    path_memory_counters counters;

    clock_type::time_point now() const { return clock ? clock() : clock_type::now(); }

    // The record of `destination`, made when new. Called with the mutex held;
    // never reads the kernel (see `seed`).
    detail::path_record& record(const boost::asio::ip::tcp::endpoint& destination)
    {
        auto it = records.find(destination);
        if (it != records.end())
            return it->second;
        if (records.size() >= options.max_destinations && !records.empty())
            evict_one();
        return records[destination];
    }

    void evict_one()
    {
        auto oldest = records.begin();
        for (auto it = records.begin(); it != records.end(); ++it)
            if (it->second.last_used < oldest->second.last_used)
                oldest = it;
        records.erase(oldest);
    }
};

boost::asio::execution_context::id path_memory::id;

path_memory::path_memory(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context), impl_(std::make_unique<impl>())
{
}

path_memory::~path_memory() = default;

void path_memory::shutdown()
{
}

void path_memory::set_options(const path_memory_options& options)
{
    std::lock_guard lock(impl_->mutex);
    impl_->options = options;
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
    auto it = impl_->records.find(destination);
    if (it == impl_->records.end())
        return {};
    return detail::state_of(it->second, impl_->now(), impl_->options);
}

path_memory_counters path_memory::counters() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->counters;
}

detail::path_advice path_memory::advise(const boost::asio::ip::tcp::endpoint& destination, bool may_hedge,
                                        bool may_read_kernel)
{
    std::lock_guard lock(impl_->mutex);
    if (!impl_->options.enabled)
        return {};
    if (may_read_kernel && impl_->options.seed_from_kernel && !impl_->records.contains(destination))
    {
        detail::path_advice read_first;
        read_first.read_kernel_record = true;
        return read_first;
    }
    const auto now = impl_->now();
    detail::path_advice a = detail::advise(impl_->record(destination), now, impl_->options, may_hedge);
    ++impl_->counters.attempts;
    if (!a.fast_open)
        ++impl_->counters.plain;
    if (a.probe)
        ++impl_->counters.probes;
    return a;
}

void path_memory::report(const boost::asio::ip::tcp::endpoint& destination, const detail::path_event& event)
{
    using kind = detail::path_event_kind;
    std::lock_guard lock(impl_->mutex);
    if (!impl_->options.enabled)
        return;
    auto& c = impl_->counters;
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
    const auto now = impl_->now();
    detail::update(impl_->record(destination), event, now, impl_->options);
}

void path_memory::seed(const boost::asio::ip::tcp::endpoint& destination)
{
    // The netlink round trip happens outside the lock: other threads' connects
    // do not wait for it.
    boost::system::error_code ec;
    const kernel_path_record k = read_kernel_path_record(destination.address(), ec);
    std::lock_guard lock(impl_->mutex);
    ++impl_->counters.kernel_reads;
    if (!impl_->options.enabled || impl_->records.contains(destination))
        return; // another connect made the record meanwhile
    detail::path_record& r = impl_->record(destination);
    if (!ec)
        detail::seed(r, k, impl_->now(), impl_->options);
}

bool path_memory::use_deferred_connect(const boost::asio::ip::tcp::endpoint& destination)
{
    detail::path_advice a = advise(destination, false, true);
    if (a.read_kernel_record)
    {
        seed(destination);
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
    impl_->records.erase(destination);
}

void path_memory::clear()
{
    std::lock_guard lock(impl_->mutex);
    impl_->records.clear();
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
