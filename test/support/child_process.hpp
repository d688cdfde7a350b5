//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// A program the test did not write (nginx, openssl), run as a child in the
// test's network namespace and always ended with the test.
//

#ifndef TFO_TEST_SUPPORT_CHILD_PROCESS_HPP
#define TFO_TEST_SUPPORT_CHILD_PROCESS_HPP

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tfo::test {

class child_process
{
public:
    /// Starts `argv[0]` (searched in PATH) with stdin from `input` and stdout
    /// and stderr to `output`. Throws std::runtime_error when it cannot start.
    child_process(const std::vector<std::string>& argv, const std::filesystem::path& input,
                  const std::filesystem::path& output);

    /// Ends the child (SIGTERM, then SIGKILL after a second) and reaps it.
    ~child_process();

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Waits up to `limit` for the child to exit; returns its exit status, or
    /// -1 if it is still running (it is then left running).
    int wait_for_exit(std::chrono::milliseconds limit);

    /// Ends the child now, as the destructor does.
    void stop() noexcept;

    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
};

/// Checks `condition` every 10 ms until it holds or `limit` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit);

/// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

/// A fresh directory under the system's temporary directory, removed with
/// everything in it on destruction.
class temp_directory
{
public:
    temp_directory();
    ~temp_directory();
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// A TCP port of 127.0.0.1 that was free a moment ago (fine in a private namespace).
unsigned short free_port();

} // namespace tfo::test

#endif
