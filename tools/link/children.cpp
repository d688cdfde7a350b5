//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "children.hpp"

#include "system_error.hpp"

#include <fcntl.h>
#include <iostream>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tfo::link {
namespace {

[[noreturn]] void child_fails(const char* what, int status)
{
    std::cerr << errno_text(std::string("tfo-link: ") + what) << std::endl;
    ::_exit(status);
}

int child_init(void* argument)
{
    const auto* spec = static_cast<const child_spec*>(argument);
    // Only the relay may hold the lifeline's write end, so that its death
    // shows as HUP here.
    ::close(spec->lifeline_write);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // If the relay died before prctl took effect, the lifeline shows HUP.
    pollfd lifeline{spec->lifeline_read, POLLIN, 0};
    if (::poll(&lifeline, 1, 0) > 0 && (lifeline.revents & POLLHUP))
        ::_exit(125);
    if (::setns(spec->namespace_handle, CLONE_NEWNET) != 0)
        child_fails("setns in child", 126);
    for (const int fd : *spec->close)
        ::close(fd);
    ::close(spec->lifeline_read);

    // Signals stay blocked (inherited from the relay); they are collected below.
    const sigset_t signals = relay_signals();
    const pid_t command = ::fork();
    if (command < 0)
        child_fails("fork", 126);
    if (command == 0)
    {
        ::setpgid(0, 0);
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (spec->stdin_null)
        {
            const int fd = ::open("/dev/null", O_RDONLY);
            if (fd > 0)
            {
                ::dup2(fd, 0);
                ::close(fd);
            }
        }
        ::execl("/bin/sh", "sh", "-c", spec->command, static_cast<char*>(nullptr));
        child_fails("exec /bin/sh", 127);
    }
    ::setpgid(command, command); // also done by the command; whoever runs first wins
    for (;;)
    {
        siginfo_t info;
        const int signal = ::sigwaitinfo(&signals, &info);
        if (signal < 0)
            continue;
        if (signal != SIGCHLD)
        {
            ::kill(-command, signal); // to the command's process group
            continue;
        }
        int status = 0;
        pid_t reaped;
        while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0)
        {
            if (reaped == command) // else an orphan
                ::_exit(exit_status(status));
        }
    }
}

} // namespace

sigset_t relay_signals()
{
    sigset_t signals;
    ::sigemptyset(&signals);
    for (const int signal : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        ::sigaddset(&signals, signal);
    return signals;
}

pid_t spawn_child(const child_spec& spec)
{
    constexpr std::size_t stack_size = 256 * 1024;
    void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        throw_errno("mmap");
    // No CLONE_VM: the child gets its own copy of memory, as with fork().
    const pid_t pid = ::clone(child_init, static_cast<char*>(stack) + stack_size, CLONE_NEWPID | SIGCHLD,
                              const_cast<child_spec*>(&spec));
    const int error = errno;
    ::munmap(stack, stack_size);
    if (pid < 0)
        throw std::runtime_error(errno_text("clone(CLONE_NEWPID)", error));
    return pid;
}

int exit_status(int wait_status)
{
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status))
        return 128 + WTERMSIG(wait_status);
    return 1;
}

} // namespace tfo::link
