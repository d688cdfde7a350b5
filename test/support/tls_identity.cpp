//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#include "tls_identity.hpp"

#include <tfo/ssl/early_data.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <stdexcept>

namespace tfo::test {
namespace {

template <typename T, void (*Free)(T*)>
struct deleter
{
    void operator()(T* p) const noexcept { Free(p); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using cert_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void check(bool ok, const char* what)
{
    if (!ok)
        throw std::runtime_error(std::string("tls_identity: ") + what);
}

std::string to_pem(auto write)
{
    std::unique_ptr<BIO, deleter<BIO, BIO_free_all>> bio(BIO_new(BIO_s_mem()));
    check(bio && write(bio.get()) == 1, "PEM");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

} // namespace

tls_identity make_tls_identity()
{
    key_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "key");
    cert_ptr cert(X509_new());
    check(cert != nullptr, "certificate");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key.get());
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    ext_ptr san(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"));
    check(san != nullptr && X509_add_ext(cert.get(), san.get(), -1) == 1, "subjectAltName");
    check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signature");

    tls_identity id;
    id.certificate_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
    id.private_key_pem = to_pem(
        [&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    return id;
}

boost::asio::ssl::context make_server_context(const tls_identity& id, std::uint32_t max_early_data)
{
    namespace ssl = boost::asio::ssl;
    ssl::context context(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
    context.use_certificate_chain(boost::asio::buffer(id.certificate_pem));
    context.use_private_key(boost::asio::buffer(id.private_key_pem), ssl::context::pem);
    tfo::ssl::enable_early_data(context, max_early_data);
    return context;
}

boost::asio::ssl::context make_client_context(const tls_identity& id)
{
    namespace ssl = boost::asio::ssl;
    ssl::context context(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
    context.add_certificate_authority(boost::asio::buffer(id.certificate_pem));
    context.set_verify_mode(ssl::verify_peer);
    return context;
}

void tls_identity::write_to(const std::filesystem::path& directory) const
{
    std::ofstream(directory / "cert.pem") << certificate_pem;
    std::ofstream(directory / "key.pem") << private_key_pem;
}

} // namespace tfo::test
