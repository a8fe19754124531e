#include "rsa_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "content_key_policy.h"

namespace ams::store {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
void free_bio(BIO* b) {
  BIO_free(b);
}
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, free_bio>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using KeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

BioPtr memory_of(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

BnPtr bignum(std::string_view big_endian) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                         static_cast<int>(big_endian.size()), nullptr));
}

std::string bytes_of(const BIGNUM* n) {
  std::string out(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// An RSA public key of at least kMinRsaKeyBits, as PEM.
Result<std::string> checked_pem(EVP_PKEY* key, const std::string& what) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return invalid_argument(what + " is not an RSA key (only RS256, RS384 and RS512 are verified)");
  }
  const int bits = EVP_PKEY_get_bits(key);
  if (bits < kMinRsaKeyBits) {
    return invalid_argument(what + " is an RSA key of " + std::to_string(bits) +
                            " bits: at least " + std::to_string(kMinRsaKeyBits) + " are needed");
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) {
    return io_error("OpenSSL could not write a public key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

bool looks_like_pem(std::string_view text) {
  return text.find("-----BEGIN ") != std::string_view::npos;
}

Result<X509Ptr> read_certificate(std::string_view certificate) {
  X509Ptr cert;
  if (looks_like_pem(certificate)) {
    BioPtr in = memory_of(certificate);
    cert.reset(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(certificate.data());
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(certificate.size())));
  }
  if (!cert) return invalid_argument("the certificate is neither DER nor PEM X.509");
  return cert;
}

}  // namespace

Result<std::string> rsa_pem_from_parameters(std::string_view modulus, std::string_view exponent) {
  BnPtr n = bignum(modulus);
  BnPtr e = bignum(exponent);
  if (!n || !e || BN_is_zero(e.get()) || !BN_is_odd(n.get())) {
    return invalid_argument("the modulus and exponent make no RSA key");
  }
  ParamBldPtr build(OSSL_PARAM_BLD_new());
  if (!build || OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return io_error("OpenSSL could not build RSA parameters");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(build.get()));
  KeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* made = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &made, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return invalid_argument("the modulus and exponent make no RSA key");
  }
  KeyPtr key(made);
  return checked_pem(key.get(), "the key");
}

Result<std::string> certificate_der(std::string_view certificate) {
  AMS_ASSIGN_OR_RETURN(X509Ptr cert, read_certificate(certificate));
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert.get(), &der);
  if (size <= 0) return io_error("OpenSSL could not write the certificate");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

Result<std::string> rsa_pem_from_certificate(std::string_view certificate) {
  AMS_ASSIGN_OR_RETURN(X509Ptr cert, read_certificate(certificate));
  EVP_PKEY* key = X509_get0_pubkey(cert.get());  // owned by the certificate
  if (key == nullptr) return invalid_argument("the certificate's public key cannot be read");
  return checked_pem(key, "the certificate's key");
}

Result<RsaNumbers> rsa_numbers_from_pem(std::string_view pem) {
  KeyPtr key;
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    AMS_ASSIGN_OR_RETURN(X509Ptr cert, read_certificate(pem));
    key.reset(X509_get_pubkey(cert.get()));  // a new reference
  } else {
    BioPtr in = memory_of(pem);
    key.reset(PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    return invalid_argument(
        "not a PEM public key (BEGIN PUBLIC KEY, as `openssl pkey -pubout` writes) or "
        "certificate");
  }
  AMS_RETURN_IF_ERROR(checked_pem(key.get(), "the key").status());
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
      EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    return io_error("OpenSSL could not read the RSA key's numbers");
  }
  BnPtr own_n(n);
  BnPtr own_e(e);
  return RsaNumbers{bytes_of(n), bytes_of(e)};
}

}  // namespace ams::store
