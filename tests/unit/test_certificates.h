// Certificates the openssl command line cannot make (provision-pki.sh has only -days from
// now): issued through the OpenSSL API, signed by a CA the script made, for TLS tests.
#pragma once

#include <initializer_list>
#include <string>

namespace regulars::testing {

// Runs installer/provision-pki.sh DIR STEP for each step ("ca", "hq localhost 127.0.0.1",
// "store S001"), quietly; false when one fails.
bool ProvisionPki(const std::string& dir, std::initializer_list<std::string> steps);

struct CertificateSpec {
  std::string common_name = "store:S001";
  // The validity window in days from now: negative is in the past.
  int valid_from_days = -1;
  int valid_until_days = 30;
  std::string extended_key_usage = "clientAuth";  // as in an openssl extension file
  std::string subject_alt_name{};                 // "IP:127.0.0.1" for a server; empty: none
};

// Issues a certificate for a fresh P-256 key, signed by `ca_dir`/ca.pem and ca.key, and
// writes it to `cert_path` and its key to `key_path`. False (OpenSSL's errors on stderr)
// when anything fails.
bool IssueCertificate(const std::string& ca_dir, const CertificateSpec& spec,
                      const std::string& cert_path, const std::string& key_path);

}  // namespace regulars::testing
