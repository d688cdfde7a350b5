//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <sstream>

namespace tfo::link {
namespace {

template <class Number>
std::string range_text(Number low, Number high)
{
    std::ostringstream text;
    text << low << ".." << high;
    return text.str();
}

double parse_real(const std::string& name, const std::string& value, double low, double high)
{
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || errno != 0 || !std::isfinite(d) || d < low || d > high)
        throw usage_error("invalid value for " + name + ": '" + value + "' (expected " + range_text(low, high) +
                          ")");
    return d;
}

long long parse_integer(const std::string& name, const std::string& value, long long low, long long high)
{
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0 || n < low || n > high)
        throw usage_error("invalid value for " + name + ": '" + value + "' (expected " + range_text(low, high) +
                          ")");
    return n;
}

} // namespace

void print_usage(std::ostream& out)
{
    out << "usage: tfo-link --rtt-ms MS --server CMD --client CMD [options]\n"
           "\n"
           "Runs CMD under /bin/sh -c in two private network namespaces joined by a\n"
           "TUN link with one-way delay MS/2.  client 10.200.0.1 (fd00:200::1),\n"
           "server 10.200.0.2 (fd00:200::2).  Exits with the client's status.\n"
           "\n"
           "  --rtt-ms MS           round-trip time to emulate (>= 0, fractional ok)\n"
           "  --loss P              independent per-packet loss probability 0..1 (0)\n"
           "  --seed N              seed for the loss generator (random)\n"
           "  --fastopen N          net.ipv4.tcp_fastopen in both namespaces (3)\n"
           "  --timeout-s S         bound for the whole run; exit 124 on expiry (120)\n"
           "  --ready-port PORT     start the client once the server listens on PORT\n"
           "  --ready-timeout-s S   bound for that wait (30)\n"
           "  --grace-s S           SIGTERM-to-SIGKILL grace when stopping (1)\n"
           "  --server CMD          server shell command\n"
           "  --client CMD          client shell command\n"
           "  --verbose             print link statistics to stderr\n"
           "\n"
           "Children see TFO_LINK_SERVER_ADDR, TFO_LINK_CLIENT_ADDR, TFO_LINK_RTT_MS\n"
           "(and TFO_LINK_SERVER_ADDR6, TFO_LINK_CLIENT_ADDR6).\n";
}

std::optional<options> parse_options(int argc, char** argv)
{
    options o;
    bool have_server = false, have_client = false;
    for (int i = 1; i < argc; ++i)
    {
        std::string name = argv[i];
        std::optional<std::string> inline_value; // --name=value
        if (name.starts_with("--"))
        {
            if (const auto eq = name.find('='); eq != std::string::npos)
            {
                inline_value = name.substr(eq + 1);
                name.resize(eq);
            }
        }
        if (name == "-h" || name == "--help")
            return std::nullopt;
        if (name == "-v" || name == "--verbose")
        {
            o.verbose = true;
            continue;
        }
        auto value = [&]() -> std::string {
            if (inline_value)
                return *inline_value;
            if (i + 1 >= argc)
                throw usage_error("missing value for " + name);
            return argv[++i];
        };
        if (name == "--rtt-ms")
        {
            o.rtt_text = value();
            o.rtt_ms = parse_real(name, o.rtt_text, 0, 600'000);
        }
        else if (name == "--loss")
            o.loss = parse_real(name, value(), 0, 1);
        else if (name == "--seed")
            o.seed = static_cast<std::uint64_t>(
                parse_integer(name, value(), 0, std::numeric_limits<std::int64_t>::max()));
        else if (name == "--fastopen")
            o.fastopen = static_cast<int>(parse_integer(name, value(), 0, 0xFFFF));
        else if (name == "--timeout-s")
            o.timeout_s = parse_real(name, value(), 0.001, 1e7);
        else if (name == "--ready-port")
            o.ready_port = static_cast<int>(parse_integer(name, value(), 1, 65535));
        else if (name == "--ready-timeout-s")
            o.ready_timeout_s = parse_real(name, value(), 0.001, 1e7);
        else if (name == "--grace-s")
            o.grace_s = parse_real(name, value(), 0, 3600);
        else if (name == "--server")
        {
            o.server_command = value();
            have_server = true;
        }
        else if (name == "--client")
        {
            o.client_command = value();
            have_client = true;
        }
        else
            throw usage_error("unknown argument '" + std::string(argv[i]) + "'");
    }
    if (o.rtt_ms < 0 || !have_server || !have_client)
        throw usage_error("--rtt-ms, --server and --client are required");
    return o;
}

} // namespace tfo::link
