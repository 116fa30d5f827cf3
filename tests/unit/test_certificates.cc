#include "test_certificates.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace regulars::testing {
namespace {

// Each OpenSSL object is owned by a unique_ptr calling its own free function, so every
// early return frees what was made so far (ASan runs these tests).
template <auto Free>
struct Freer {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
template <class T, auto Free>
using Owned = std::unique_ptr<T, Freer<Free>>;
using Bio = Owned<BIO, BIO_free_all>;
using Cert = Owned<X509, X509_free>;
using Key = Owned<EVP_PKEY, EVP_PKEY_free>;
using Name = Owned<X509_NAME, X509_NAME_free>;
using Extension = Owned<X509_EXTENSION, X509_EXTENSION_free>;
using Bignum = Owned<BIGNUM, BN_free>;

bool Fail() {
  ERR_print_errors_fp(stderr);
  return false;
}

// Adds an extension written as in an openssl extension file ("critical,CA:FALSE").
bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx{};  // no config database: the values are given inline
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool SetName(X509* cert, const std::string& common_name) {
  Name name(X509_NAME_new());
  auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  return name && add("O", "Regulars chain") && add("CN", common_name) &&
         X509_set_subject_name(cert, name.get()) == 1;  // copies the name
}

// A random 64-bit serial, as the command line's; a repeated serial would not matter to the
// handshake, but real certificates never share one.
bool SetRandomSerial(X509* cert) {
  Bignum serial(BN_new());
  return serial && BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
         BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

}  // namespace

bool IssueCertificate(const std::string& ca_dir, const CertificateSpec& spec,
                      const std::string& cert_path, const std::string& key_path) {
  Bio ca_pem(BIO_new_file((ca_dir + "/ca.pem").c_str(), "r"));
  Bio ca_key_pem(BIO_new_file((ca_dir + "/ca.key").c_str(), "r"));
  if (!ca_pem || !ca_key_pem) return Fail();
  Cert ca(PEM_read_bio_X509(ca_pem.get(), nullptr, nullptr, nullptr));
  Key ca_key(PEM_read_bio_PrivateKey(ca_key_pem.get(), nullptr, nullptr, nullptr));
  Key key(EVP_EC_gen("P-256"));
  Cert cert(X509_new());
  if (!ca || !ca_key || !key || !cert) return Fail();

  // X509_time_adj_ex counts from now, so the window can lie wholly in the past or future.
  const bool made =
      X509_set_version(cert.get(), X509_VERSION_3) == 1 && SetRandomSerial(cert.get()) &&
      X509_time_adj_ex(X509_getm_notBefore(cert.get()), spec.valid_from_days, 0, nullptr) &&
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), spec.valid_until_days, 0, nullptr) &&
      SetName(cert.get(), spec.common_name) &&
      X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) == 1 &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      // The extensions of provision-pki.sh's store certificates.
      AddExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") &&
      AddExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature") &&
      AddExtension(cert.get(), ca.get(), NID_ext_key_usage, spec.extended_key_usage) &&
      (spec.subject_alt_name.empty() ||
       AddExtension(cert.get(), ca.get(), NID_subject_alt_name, spec.subject_alt_name)) &&
      X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0;
  if (!made) return Fail();

  Bio cert_out(BIO_new_file(cert_path.c_str(), "w"));
  Bio key_out(BIO_new_file(key_path.c_str(), "w"));
  if (!cert_out || !key_out || PEM_write_bio_X509(cert_out.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return Fail();
  }
  // Keys are 0600, as the script writes them.
  std::filesystem::permissions(
      key_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return true;
}

bool ProvisionPki(const std::string& dir, std::initializer_list<std::string> steps) {
  const std::string script = std::string(REGULARS_SOURCE_DIR) + "/installer/provision-pki.sh";
  for (const auto& step : steps) {
    if (std::system((script + " " + dir + " " + step + " >/dev/null 2>&1").c_str()) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace regulars::testing
