//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include <tfo/error.hpp>
#include <tfo/detail/throw_error.hpp>
#include <tfo/key_schedule.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/throw_exception.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>


#include <array>
#include <cerrno>
#include <fstream>
#include <iterator>

namespace tfo {
namespace {

constexpr std::size_t minimum_secret_size = 16;
constexpr std::string_view derivation_label = "tfo-fastopen-key-v1";

void wipe(std::vector<unsigned char>& bytes) noexcept
{
    if (!bytes.empty())
        OPENSSL_cleanse(bytes.data(), bytes.size());
}

boost::system::error_code check(std::span<const unsigned char> secret, std::chrono::seconds period) noexcept
{
    if (secret.size() < minimum_secret_size)
        return error::secret_too_short;
    if (period.count() <= 0)
        return error::invalid_period;
    return {};
}

// The secret, once it and the period are known to be valid; throws otherwise,
// before anything is copied.
std::span<const unsigned char> checked(std::span<const unsigned char> secret, std::chrono::seconds period)
{
    detail::throw_if(check(secret, period), "tfo::key_schedule");
    return secret;
}

} // namespace

key_schedule::key_schedule(validated, std::span<const unsigned char> secret, std::chrono::seconds period)
    : secret_(secret.begin(), secret.end()), period_(period)
{
}

key_schedule::key_schedule(std::span<const unsigned char> secret, std::chrono::seconds period)
    : key_schedule(validated{}, checked(secret, period), period)
{
}

std::optional<key_schedule> key_schedule::create(std::span<const unsigned char> secret, std::chrono::seconds period,
                                                 boost::system::error_code& ec)
{
    ec = check(secret, period);
    if (ec)
        return std::nullopt;
    return key_schedule(validated{}, secret, period);
}

key_schedule::key_schedule(const key_schedule& other) : secret_(other.secret_), period_(other.period_) {}

key_schedule::~key_schedule()
{
    wipe(secret_);
}

key_schedule& key_schedule::operator=(const key_schedule& other)
{
    if (this != &other)
    {
        wipe(secret_);
        secret_ = other.secret_;
        period_ = other.period_;
    }
    return *this;
}

std::optional<key_schedule> key_schedule::from_file(const std::string& path, std::chrono::seconds period,
                                                    boost::system::error_code& ec)
{
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> secret;
    bool read_failed = !in.is_open();
    try
    {
        if (!read_failed)
            secret.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    catch (const std::ios_base::failure&)
    {
        read_failed = true; // libstdc++ throws for a read error such as EISDIR
    }
    std::optional<key_schedule> schedule;
    if (read_failed || in.bad())
        ec = error::secret_unreadable;
    else
        schedule = create(secret, period, ec);
    wipe(secret);
    return schedule;
}

key_schedule key_schedule::from_file(const std::string& path, std::chrono::seconds period)
{
    boost::system::error_code ec;
    std::optional<key_schedule> schedule = from_file(path, period, ec);
    detail::throw_if(ec, "tfo::key_schedule::from_file");
    return *schedule;
}

std::uint64_t key_schedule::period_at(clock::time_point t) const noexcept
{
    const auto since_epoch = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    return since_epoch <= 0 ? 0 : static_cast<std::uint64_t>(since_epoch / period_.count());
}

key_schedule::clock::time_point key_schedule::next_rotation(clock::time_point t) const noexcept
{
    return clock::time_point(std::chrono::duration_cast<clock::duration>(period_ * (period_at(t) + 1)));
}

fast_open_key key_schedule::key_of_period(std::uint64_t index) const
{
    std::array<unsigned char, derivation_label.size() + 8> message{};
    std::copy(derivation_label.begin(), derivation_label.end(), message.begin());
    for (int i = 0; i < 8; ++i)
        message[derivation_label.size() + i] = static_cast<unsigned char>(index >> (56 - 8 * i));

    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), message.data(), message.size(),
              digest.data(), &digest_size))
        boost::throw_exception(std::runtime_error("tfo::key_schedule: HMAC-SHA256 failed"));
    fast_open_key key(std::span<const unsigned char>(digest.data(), fast_open_key::key_size));
    OPENSSL_cleanse(digest.data(), digest.size());
    return key;
}

fast_open_key key_schedule::keys_at(clock::time_point t) const
{
    const std::uint64_t current = period_at(t);
    const fast_open_key primary = key_of_period(current);
    const fast_open_key backup = key_of_period(current == 0 ? 0 : current - 1);
    return fast_open_key(primary.primary().first<fast_open_key::key_size>(),
                         backup.primary().first<fast_open_key::key_size>());
}

} // namespace tfo

namespace tfo::detail {

void install_keys(platform::native_socket descriptor, const fast_open_key& keys, boost::system::error_code& ec) noexcept
{
    const auto protocol = boost::asio::ip::tcp::v4(); // the level and name do not depend on the family
    platform::set_socket_option(descriptor, keys.level(protocol), keys.name(protocol), keys.data(protocol),
                                keys.size(protocol), ec);
}

} // namespace tfo::detail
