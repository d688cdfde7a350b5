//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "child_process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tfo::test {

child_process::child_process(const std::vector<std::string>& argv, const std::filesystem::path& input,
                             const std::filesystem::path& output)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int e = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (e != 0)
    {
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0]);
    }
}

child_process::~child_process() { stop(); }

int child_process::wait_for_exit(std::chrono::milliseconds limit)
{
    if (pid_ < 0)
        return -1;
    int status = 0;
    const bool exited = wait_until(
        [&] {
            const pid_t r = waitpid(pid_, &status, WNOHANG);
            return r == pid_ || (r < 0 && errno != EINTR);
        },
        limit);
    if (!exited)
        return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void child_process::stop() noexcept
{
    if (pid_ < 0)
        return;
    kill(pid_, SIGTERM);
    if (wait_for_exit(std::chrono::seconds(1)) < 0 && pid_ >= 0)
    {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;)
    {
        if (condition())
            return true;
        if (std::chrono::steady_clock::now() >= end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

temp_directory::temp_directory()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "tfo-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

temp_directory::~temp_directory()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

unsigned short free_port()
{
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::address_v4::loopback(), 0});
    return probe.local_endpoint().port();
}

} // namespace tfo::test
