//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/netns/linked_netns.hpp>

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <stdexcept>
#include <unistd.h>

namespace tfo::netns {
namespace {

void enter(const private_netns& ns)
{
    if (::setns(ns.native_handle(), CLONE_NEWNET) != 0)
        throw std::runtime_error(std::string("setns: ") + std::strerror(errno));
}

void must(const std::string& command)
{
    if (private_netns::run(command) != 0)
        throw std::runtime_error("failed: " + command);
}

} // namespace

linked_netns::linked_netns(int links, int tcp_fastopen) : server_(tcp_fastopen), client_(tcp_fastopen)
{
    // The server's end of each pair is moved through a path to the server
    // namespace's descriptor, which `ip` opens (ours is close-on-exec).
    const std::string server_ns = "/proc/" + std::to_string(::getpid()) + "/fd/" +
                                  std::to_string(server_.native_handle());
    for (int i = 1; i <= links; ++i)
    {
        must("ip link add " + client_device(i) + " type veth peer name " + server_device(i) + " netns " +
             server_ns);
        must("ip addr add " + client_address(i) + "/24 dev " + client_device(i));
        must("ip link set " + client_device(i) + " up");
        if (run_in_server("ip addr add " + server_address(i) + "/24 dev " + server_device(i) + " && ip link set " +
                          server_device(i) + " up") != 0)
            throw std::runtime_error("cannot set up " + server_device(i));
    }
}

void linked_netns::enter_client() const
{
    enter(client_);
}

void linked_netns::enter_server() const
{
    enter(server_);
}

int linked_netns::run_in_client(const std::string& command) const
{
    enter_client();
    return private_netns::run(command);
}

int linked_netns::run_in_server(const std::string& command) const
{
    enter_server();
    const int status = private_netns::run(command);
    enter_client();
    return status;
}

void linked_netns::cut(int link) const
{
    if (run_in_client("ip link del " + client_device(link)) != 0)
        throw std::runtime_error("cannot delete " + client_device(link));
}

} // namespace tfo::netns
