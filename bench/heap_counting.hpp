//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Replaces the global operator new and delete to count heap allocations (per
// thread: calls and bytes asked for) and the bytes held (all threads: the
// usable size of every live block). For the benchmarks that count
// allocations (cost, destinations); include it from one source file of a
// program only, since it defines the replacements.
//

#ifndef TFO_BENCH_HEAP_COUNTING_HPP
#define TFO_BENCH_HEAP_COUNTING_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <new>

namespace tfo_bench {

struct heap_counter
{
    std::uint64_t calls;
    std::uint64_t bytes;
};

// Per thread, so that another thread's allocations (the server's) do not
// count. Constant-initialised: safe to touch from operator new at any time.
inline thread_local heap_counter heap{0, 0};

// Bytes held by live blocks, every thread together, as malloc sizes them.
inline std::atomic<std::int64_t> live_heap_bytes{0};

namespace detail {

inline void* counted(void* p, std::size_t n) noexcept
{
    ++heap.calls;
    heap.bytes += n;
    if (p)
        live_heap_bytes.fetch_add(static_cast<std::int64_t>(::malloc_usable_size(p)), std::memory_order_relaxed);
    return p;
}

inline void* counted_malloc(std::size_t n) noexcept
{
    return counted(std::malloc(n == 0 ? 1 : n), n);
}

inline void* counted_aligned(std::size_t n, std::align_val_t align) noexcept
{
    const std::size_t a = static_cast<std::size_t>(align);
    return counted(std::aligned_alloc(a, (n + a - 1) / a * a), n);
}

inline void counted_free(void* p) noexcept
{
    if (p)
        live_heap_bytes.fetch_sub(static_cast<std::int64_t>(::malloc_usable_size(p)), std::memory_order_relaxed);
    std::free(p);
}

} // namespace detail
} // namespace tfo_bench

void* operator new(std::size_t n)
{
    if (void* p = tfo_bench::detail::counted_malloc(n))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n)
{
    if (void* p = tfo_bench::detail::counted_malloc(n))
        return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept
{
    return tfo_bench::detail::counted_malloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept
{
    return tfo_bench::detail::counted_malloc(n);
}
void* operator new(std::size_t n, std::align_val_t a)
{
    if (void* p = tfo_bench::detail::counted_aligned(n, a))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a)
{
    if (void* p = tfo_bench::detail::counted_aligned(n, a))
        return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept
{
    return tfo_bench::detail::counted_aligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept
{
    return tfo_bench::detail::counted_aligned(n, a);
}
// Kept out of line: inlined, the free() would meet the `new` at the call site
// and GCC would warn of a mismatch (-Wmismatched-new-delete) that is not one.
[[gnu::noinline]] void operator delete(void* p) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete[](void* p) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t, std::align_val_t) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t, std::align_val_t) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept
{
    tfo_bench::detail::counted_free(p);
}
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept
{
    tfo_bench::detail::counted_free(p);
}

#endif
