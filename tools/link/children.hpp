//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The server and client commands, each under a tiny init that is PID 1 of its
// own PID namespace. When that init dies (the command exited, we killed it,
// or we died: PDEATHSIG) the kernel kills every process left in the PID
// namespace, so nothing a benchmark forks can outlive the run or pin the
// network namespace.
//

#ifndef TFO_TOOLS_LINK_CHILDREN_HPP
#define TFO_TOOLS_LINK_CHILDREN_HPP

#include <signal.h>
#include <sys/types.h>
#include <vector>

namespace tfo::link {

/// What a child runs, and where.
struct child_spec
{
    const char* command;            ///< run as /bin/sh -c command
    int namespace_handle;           ///< the network namespace to enter
    bool stdin_null;                ///< stdin from /dev/null
    int lifeline_read;              ///< shows HUP once the relay is gone
    int lifeline_write;             ///< only the relay may hold this end
    const std::vector<int>* close;  ///< the relay's descriptors, closed in the child
};

/// The signals the relay collects through a signalfd; the children's inits
/// collect them with sigwaitinfo and pass them on to the command.
sigset_t relay_signals();

/// Starts `spec` (which must outlive the call only until it returns).
/// Throws std::runtime_error.
pid_t spawn_child(const child_spec& spec);

/// An exit status as a shell reports it: the code, or 128 + the signal.
int exit_status(int wait_status);

} // namespace tfo::link

#endif
