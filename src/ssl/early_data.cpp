//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/ssl/early_data.hpp>

#include <algorithm>

namespace tfo::ssl {

std::string_view to_string(early_data_status s) noexcept
{
    switch (s)
    {
    case early_data_status::accepted:
        return "accepted";
    case early_data_status::rejected_and_resent:
        return "rejected and resent";
    case early_data_status::not_attempted:
        return "not attempted";
    }
    return "unknown";
}

std::string_view to_string(not_attempted_reason r) noexcept
{
    switch (r)
    {
    case not_attempted_reason::none:
        return "attempted";
    case not_attempted_reason::not_replay_safe:
        return "not replay-safe";
    case not_attempted_reason::no_ticket:
        return "no ticket";
    case not_attempted_reason::not_allowed:
        return "not allowed by the ticket";
    case not_attempted_reason::too_big:
        return "too big for the ticket";
    case not_attempted_reason::empty_request:
        return "empty request";
    }
    return "unknown";
}

void enable_early_data(boost::asio::ssl::context& context, std::uint32_t max_early_data, std::uint32_t receive_limit)
{
    // What tickets announce, and what the server reads off the wire: early
    // data it refuses is skipped up to the second limit, and a handshake
    // with more is aborted. A client may hold a ticket with an older, higher
    // announcement, so the second never drops with the first.
    SSL_CTX_set_max_early_data(context.native_handle(), max_early_data);
    SSL_CTX_set_recv_max_early_data(context.native_handle(), std::max(max_early_data, receive_limit));
}

} // namespace tfo::ssl
