//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// tfo-doctor: what is known about one destination
//
// `tfo-doctor --destination HOST:PORT [--probe]`: the kernel's tcp_metrics
// entry for the address (the first source), what tfo's path memory decides
// from it in a new process, and, with --probe, a live fast-open connect that
// sends no data, with what the kernel reported about its SYN.
//

#ifndef TFO_TOOLS_DOCTOR_DESTINATION_HPP
#define TFO_TOOLS_DOCTOR_DESTINATION_HPP

#include <tfo/path_memory.hpp>

#include <optional>
#include <string>

namespace tfo::doctor {

struct destination_report
{
    std::string destination;          // as given
    std::string error;                // resolution or probe failure
    std::string endpoint;             // resolved
    tfo::kernel_path_record kernel;
    std::string kernel_error;
    tfo::destination_state state;     // after the path memory's first look (and the probe)
    tfo::path_memory_counters counters;
    bool probed = false;
    std::string probe_result;         // error message, or "connected"
    double probe_ms = 0;
};

/// Resolves `host_port` ("example.com:443", "[::1]:8080"), reads the kernel's
/// record, asks a fresh path memory, and probes when asked.
destination_report examine_destination(const std::string& host_port, bool probe);

std::string to_text(const destination_report& r);
std::string to_json(const destination_report& r);

} // namespace tfo::doctor

#endif
