//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// libFuzzer target: tfo::parse_fast_open_sysctl on arbitrary text. It must
// never crash, and what it accepts must be a non-negative decimal number.
#include <tfo/error.hpp>
#include <tfo/system.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    boost::system::error_code ec;
    const auto support = tfo::parse_fast_open_sysctl(text, ec);
    if (ec)
    {
        if (ec != tfo::error::malformed_proc_file || support.value != 0)
            std::abort();
        return 0;
    }
    // Accepted: the text is the number's digits (perhaps with leading zeros)
    // followed by nothing but line-end white space.
    std::string_view digits = text;
    while (!digits.empty() && (digits.back() == '\n' || digits.back() == '\r' || digits.back() == ' '))
        digits.remove_suffix(1);
    while (digits.size() > 1 && digits.front() == '0')
        digits.remove_prefix(1);
    if (support.value < 0 || digits != std::to_string(support.value))
        std::abort();
    return 0;
}
