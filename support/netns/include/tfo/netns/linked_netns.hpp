//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// Two private network namespaces, a client's and a server's, joined by one
// or more links (veth pairs): hosts with several paths between them, for the
// Multipath TCP tests. Linux only; not installed.
//

#ifndef TFO_NETNS_LINKED_NETNS_HPP
#define TFO_NETNS_LINKED_NETNS_HPP

#include <tfo/netns/private_netns.hpp>

#include <optional>
#include <string>

namespace tfo::netns {

/// A client namespace and a server namespace joined by `links` veth pairs.
/// Link `i` (from 1) joins `client_device(i)` at `client_address(i)` to
/// `server_device(i)` at `server_address(i)`, in the /24 `10.21.i.0`.
///
/// Both namespaces have `lo` up and `net.ipv4.tcp_fastopen` set, as
/// `private_netns` makes them. The calling thread ends up in the client's
/// namespace; `enter_server()` and `enter_client()` move it (a socket stays
/// in the namespace where it was opened). The links vanish with the
/// namespaces, when this object and every socket in them are gone. Needs
/// `ip` (iproute2); throws std::runtime_error on any failure.
class linked_netns
{
public:
    explicit linked_netns(int links, int tcp_fastopen = 3);
    linked_netns(const linked_netns&) = delete;
    linked_netns& operator=(const linked_netns&) = delete;

    /// Moves the calling thread into the client's (server's) namespace.
    void enter_client() const;
    void enter_server() const;

    /// Runs a shell command in the client's (server's) namespace; returns
    /// its exit status. The thread is back in the client's namespace after.
    int run_in_client(const std::string& command) const;
    int run_in_server(const std::string& command) const;

    /// Deletes link `i`, both ends at once, as a pulled cable.
    void cut(int link) const;

    static std::string client_device(int link) { return "cli" + std::to_string(link); }
    static std::string server_device(int link) { return "srv" + std::to_string(link); }
    static std::string client_address(int link) { return "10.21." + std::to_string(link) + ".1"; }
    static std::string server_address(int link) { return "10.21." + std::to_string(link) + ".2"; }

private:
    // Declared in this order: the client's namespace is made inside the
    // server's and left first, so that leaving both returns home.
    private_netns server_;
    private_netns client_;
};

} // namespace tfo::netns

#endif
