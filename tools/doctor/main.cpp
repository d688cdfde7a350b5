//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-doctor: answers "why is TCP Fast Open not happening here?"
//
// Usage: tfo-doctor [--json] [--expect VALUE] [--no-self-test]
//        tfo-doctor [--json] --destination HOST:PORT [--probe]
//   --json          machine-readable output, for monitoring
//   --destination   the kernel's record and tfo's path memory for one destination
//   --probe         with --destination: a live fast-open connect that sends no data
//   --expect VALUE  the net.ipv4.tcp_fastopen value this host or container should have
//                   (decimal, or hexadecimal with 0x)
//   --no-self-test  skip the live test in a private network namespace
//
// Exit status: 0 when nothing is wrong, 1 when a problem was found, 2 on bad usage.
//

#include "destination.hpp"
#include "doctor.hpp"

#include <cstring>
#include <iostream>

int main(int argc, char** argv)
{
    bool json = false, self_test = true, probe = false;
    std::optional<int> expected;
    std::optional<std::string> destination;
    for (int i = 1; i < argc; ++i)
    {
        if (std::strcmp(argv[i], "--json") == 0)
            json = true;
        else if (std::strcmp(argv[i], "--no-self-test") == 0)
            self_test = false;
        else if (std::strcmp(argv[i], "--destination") == 0 && i + 1 < argc)
            destination = argv[++i];
        else if (std::strcmp(argv[i], "--probe") == 0)
            probe = true;
        else if (std::strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
        {
            expected = tfo::doctor::parse_expected(argv[++i]);
            if (!expected)
            {
                std::cerr << "tfo-doctor: --expect takes a decimal or 0x hexadecimal number from 0 to 2147483647, "
                             "such as 3 or 0x207\n";
                return 2;
            }
        }
        else
        {
            std::cerr << "usage: tfo-doctor [--json] [--expect VALUE] [--no-self-test]\n"
                         "       tfo-doctor [--json] --destination HOST:PORT [--probe]\n";
            return 2;
        }
    }
    if (destination)
    {
        const auto r = tfo::doctor::examine_destination(*destination, probe);
        std::cout << (json ? tfo::doctor::to_json(r) : tfo::doctor::to_text(r));
        return r.error.empty() ? 0 : 1;
    }
    const auto facts = tfo::doctor::gather(expected, self_test);
    const auto findings = tfo::doctor::diagnose(facts);
    std::cout << (json ? tfo::doctor::to_json(facts, findings) : tfo::doctor::to_text(facts, findings));
    for (const auto& f : findings)
        if (f.level == tfo::doctor::severity::problem)
            return 1;
    return 0;
}
