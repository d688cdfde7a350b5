//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-link's command line.
//

#ifndef TFO_TOOLS_LINK_OPTIONS_HPP
#define TFO_TOOLS_LINK_OPTIONS_HPP

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>

namespace tfo::link {

struct options
{
    double rtt_ms = -1;
    std::string rtt_text; ///< as given, passed on to the children in TFO_LINK_RTT_MS
    double loss = 0;
    int fastopen = 3;
    double timeout_s = 120;
    int ready_port = 0; ///< 0: start the client at once
    double ready_timeout_s = 30;
    double grace_s = 1;
    std::optional<std::uint64_t> seed;
    std::string server_command;
    std::string client_command;
    bool verbose = false;
};

/// A command line that cannot be run; the message says why.
struct usage_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

/// Reads the command line; nothing when it asks for --help. Throws usage_error.
std::optional<options> parse_options(int argc, char** argv);

void print_usage(std::ostream& out);

} // namespace tfo::link

#endif
