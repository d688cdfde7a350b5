//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Helpers shared by the benchmarks: command-line options, statistics, the
// summary rows that bench/run.sh gathers, and the private network namespace
// that the loopback benchmarks run in.
//

#ifndef TFO_BENCH_SUPPORT_HPP
#define TFO_BENCH_SUPPORT_HPP

#include <tfo/netns/private_netns.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace tfo_bench {

/// `--name value` pairs; a name without a value is a flag.
class options
{
public:
    options(int argc, char** argv)
    {
        for (int i = 1; i < argc; ++i)
        {
            std::string_view arg = argv[i];
            if (!arg.starts_with("--"))
                throw std::invalid_argument("unexpected argument: " + std::string(arg));
            arg.remove_prefix(2);
            if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--"))
                values_[std::string(arg)] = argv[++i];
            else
                values_[std::string(arg)] = "";
        }
    }

    bool has(const std::string& name) const { return values_.contains(name); }

    std::string get(const std::string& name, const std::string& fallback) const
    {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }

    double get_number(const std::string& name, double fallback) const
    {
        auto it = values_.find(name);
        if (it == values_.end())
            return fallback;
        double value = 0;
        const std::string& text = it->second;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size())
            throw std::invalid_argument("--" + name + " wants a number, got '" + text + "'");
        return value;
    }

    int get_int(const std::string& name, int fallback) const
    {
        return static_cast<int>(get_number(name, fallback));
    }

    /// A comma-separated list of numbers, such as `--windows 1,8`.
    std::vector<int> get_int_list(const std::string& name, const std::string& fallback) const
    {
        std::vector<int> out;
        std::stringstream in(get(name, fallback));
        for (std::string item; std::getline(in, item, ',');)
            out.push_back(std::stoi(item));
        return out;
    }

private:
    std::map<std::string, std::string, std::less<>> values_;
};

/// Nearest-rank percentile (p in 0..100) of unsorted samples.
inline double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return std::nan("");
    std::sort(v.begin(), v.end());
    const double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()));
    const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
    return v[std::min(index, v.size() - 1)];
}

inline double median(std::vector<double> v)
{
    if (v.empty())
        return std::nan("");
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// CPU time of the calling thread (user and system), in seconds.
inline double thread_cpu_seconds()
{
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

inline std::string fixed(double value, int decimals)
{
    if (std::isnan(value))
        return "";
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

/// One row of bench/results/summary.csv, written to stdout. The columns are
/// `benchmark,setting,variant,value,p99,unit,ratio,ratio_to,target,met,note`;
/// `value` is a median (latency, rate) or an exact per-operation mean (cost).
struct summary_row
{
    std::string benchmark, setting, variant, value, p99, unit, ratio, ratio_to, target, met, note;

    void print() const
    {
        // Fields never hold commas: notes use ';' instead.
        std::printf("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", benchmark.c_str(), setting.c_str(), variant.c_str(),
                    value.c_str(), p99.c_str(), unit.c_str(), ratio.c_str(), ratio_to.c_str(), target.c_str(),
                    met.c_str(), note.c_str());
        std::fflush(stdout);
    }
};

inline std::string errno_text(const char* what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

/// The client variants the loopback benchmarks (rate, cost) compare.
enum class variant
{
    asio,       // async_connect + async_write
    tfo_async,  // tfo::async_fastopen_connect
    tfo_option, // tfo::fast_open_deferred_connect, then the asio code
    raw,        // sendmsg(MSG_FASTOPEN) and epoll, no Asio
    raw_plain   // connect + send and epoll, no Asio
};

inline constexpr std::array<variant, 5> all_variants{variant::asio, variant::tfo_async, variant::tfo_option,
                                                     variant::raw, variant::raw_plain};

inline const char* name(variant v)
{
    constexpr std::array<const char*, 5> names{"asio", "tfo_async", "tfo_option", "raw", "raw_plain"};
    return names[static_cast<std::size_t>(v)];
}

/// Moves the calling thread (call it before starting any other) into a new,
/// private network namespace with only `lo`, up, and TCP Fast Open on for
/// clients and servers. The loopback benchmarks can then send as much as they
/// like without touching the host's interfaces or sysctls. Keep the result
/// alive while benchmarking.
inline std::unique_ptr<tfo::netns::private_netns> enter_private_netns()
{
    auto ns = std::make_unique<tfo::netns::private_netns>(3);
    // Short connections churn through ephemeral ports; give them all.
    ns->set_sysctl("net/ipv4/ip_local_port_range", "1024 65535");
    return ns;
}

} // namespace tfo_bench

#endif
