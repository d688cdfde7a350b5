//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/detail/platform.hpp>
#include <tfo/detail/throw_error.hpp>
#include <tfo/error.hpp>
#include <tfo/system.hpp>

#include <boost/system/system_error.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace tfo {
namespace {

std::vector<std::string_view> split_words(std::string_view line)
{
    std::vector<std::string_view> words;
    std::size_t pos = 0;
    while (pos < line.size())
    {
        std::size_t start = line.find_first_not_of(" \t\r", pos);
        if (start == std::string_view::npos)
            break;
        std::size_t end = line.find_first_of(" \t\r", start);
        if (end == std::string_view::npos)
            end = line.size();
        words.push_back(line.substr(start, end - start));
        pos = end;
    }
    return words;
}

template <typename T>
bool parse_number(std::string_view word, T& value)
{
    auto [ptr, err] = std::from_chars(word.data(), word.data() + word.size(), value);
    return err == std::errc() && ptr == word.data() + word.size();
}

template <typename Counters, typename Table>
std::uint64_t* counter_field(Counters& c, const Table& table, std::string_view name)
{
    for (const auto& counter : table)
        if (counter.kernel_name == name)
            return &(c.*counter.member);
    return nullptr;
}

// One section of /proc/net/netstat (TcpExt, MPTcpExt), pairs of lines
// "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...", read into the members
// `table` names. `missing` when the section is not there.
template <typename Counters, typename Table>
Counters parse_section(std::string_view text, std::string_view section, const Table& table, error missing,
                       boost::system::error_code& ec)
{
    std::optional<std::string_view> header;
    while (!text.empty())
    {
        std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        if (!line.starts_with(section) || !line.substr(section.size()).starts_with(':'))
            continue;
        if (!header)
        {
            header = line;
            continue;
        }
        auto names = split_words(*header);
        auto values = split_words(line);
        if (names.size() != values.size())
            break;
        Counters counters;
        for (std::size_t i = 1; i < names.size(); ++i)
        {
            std::uint64_t* field = counter_field(counters, table, names[i]);
            if (field && !parse_number(values[i], *field))
            {
                ec = error::malformed_proc_file;
                return {};
            }
        }
        ec.clear();
        return counters;
    }
    ec = header ? error::malformed_proc_file : missing;
    return {};
}

// Reads this namespace's /proc/net/netstat and parses it; `missing` when
// there is nothing to read.
template <typename Parse>
auto read_netstat(error missing, boost::system::error_code& ec, Parse parse)
{
    auto text = detail::platform::netstat_text();
    if (!text)
    {
        ec = missing;
        return decltype(parse(std::string_view(), ec)){};
    }
    return parse(*text, ec);
}

template <typename Counters, typename Table>
Counters difference(const Counters& after, const Counters& before, const Table& table) noexcept
{
    Counters d;
    for (const auto& counter : table)
        d.*counter.member = after.*counter.member - before.*counter.member;
    return d;
}

} // namespace

fast_open_support parse_fast_open_sysctl(std::string_view text, boost::system::error_code& ec)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
        text.remove_suffix(1);
    fast_open_support support;
    // Digits only: from_chars would also take a sign ("-0").
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos ||
        !parse_number(text, support.value))
    {
        ec = error::malformed_proc_file;
        return {};
    }
    ec.clear();
    return support;
}

fast_open_support system_support(boost::system::error_code& ec)
{
    auto text = detail::platform::fast_open_sysctl_text();
    if (!text)
    {
        ec = error::sysctl_unavailable;
        return {};
    }
    return parse_fast_open_sysctl(*text, ec);
}

fast_open_support system_support()
{
    return detail::call_or_throw("tfo::system_support",
                                 [](boost::system::error_code& ec) { return system_support(ec); });
}

fast_open_counters parse_netstat(std::string_view text, boost::system::error_code& ec)
{
    return parse_section<fast_open_counters>(text, "TcpExt", fast_open_counter_table, error::counters_unavailable,
                                             ec);
}

fast_open_counters kernel_counters(boost::system::error_code& ec)
{
    return read_netstat(error::counters_unavailable, ec, parse_netstat);
}

fast_open_counters kernel_counters()
{
    return detail::call_or_throw("tfo::kernel_counters",
                                 [](boost::system::error_code& ec) { return kernel_counters(ec); });
}

fast_open_counters operator-(const fast_open_counters& after, const fast_open_counters& before) noexcept
{
    return difference(after, before, fast_open_counter_table);
}

multipath_counters parse_multipath_netstat(std::string_view text, boost::system::error_code& ec)
{
    return parse_section<multipath_counters>(text, "MPTcpExt", multipath_counter_table,
                                             error::multipath_unavailable, ec);
}

multipath_counters kernel_multipath_counters(boost::system::error_code& ec)
{
    return read_netstat(error::multipath_unavailable, ec, parse_multipath_netstat);
}

multipath_counters kernel_multipath_counters()
{
    return detail::call_or_throw("tfo::kernel_multipath_counters",
                                 [](boost::system::error_code& ec) { return kernel_multipath_counters(ec); });
}

multipath_counters operator-(const multipath_counters& after, const multipath_counters& before) noexcept
{
    return difference(after, before, multipath_counter_table);
}

multipath_support system_multipath_support(boost::system::error_code& ec)
{
    auto text = detail::platform::multipath_sysctl_text();
    if (!text)
    {
        ec = error::multipath_unavailable;
        return {};
    }
    // The same format as tcp_fastopen: a decimal number and a newline.
    const fast_open_support value = parse_fast_open_sysctl(*text, ec);
    if (ec)
        return {};
    multipath_support support;
    support.enabled = value.value != 0;
    support.fast_open = support.enabled && detail::platform::multipath_takes_fast_open();
    return support;
}

multipath_support system_multipath_support()
{
    return detail::call_or_throw("tfo::system_multipath_support",
                                 [](boost::system::error_code& ec) { return system_multipath_support(ec); });
}

} // namespace tfo
