//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// libFuzzer target: tfo::parse_netstat on arbitrary text. It must never
// crash, and when it accepts the text, a counter present in it must read back.
#include <tfo/error.hpp>
#include <tfo/system.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    boost::system::error_code ec;
    const auto counters = tfo::parse_netstat(text, ec);
    if (ec && !(ec == tfo::error::counters_unavailable || ec == tfo::error::malformed_proc_file))
        std::abort(); // only the documented errors
    if (ec && !(counters == tfo::fast_open_counters{}))
        std::abort(); // nothing half-parsed escapes on error
    return 0;
}
