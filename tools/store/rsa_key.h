// Inside the store: the RSA public keys of token restrictions (content_key_policy.h), through
// OpenSSL 3's EVP API. A key is carried as a SubjectPublicKeyInfo PEM, the form libjwt verifies
// RS256 signatures with.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ams::store {

// The PEM of the RSA public key with this modulus and exponent (big-endian bytes, as AMS's
// ContentKeyPolicyRsaTokenKey and .NET's RSAParameters hold them). kInvalidArgument when they
// make no RSA key of at least kMinRsaKeyBits.
Result<std::string> rsa_pem_from_parameters(std::string_view modulus, std::string_view exponent);

// The PEM of the RSA public key of an X.509 certificate, DER or PEM. kInvalidArgument when it is
// no certificate or its key is not RSA of at least kMinRsaKeyBits.
Result<std::string> rsa_pem_from_certificate(std::string_view certificate);

// The DER of a certificate given as DER or PEM; kInvalidArgument when it is neither.
Result<std::string> certificate_der(std::string_view certificate);

// The modulus and exponent (big-endian bytes) of a PEM public key or certificate.
struct RsaNumbers {
  std::string modulus;
  std::string exponent;
};
Result<RsaNumbers> rsa_numbers_from_pem(std::string_view pem);

}  // namespace ams::store
