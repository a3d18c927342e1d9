#include "host/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "host/host_error.h"

namespace bricks::host {
namespace {

struct DigestContext {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};

  DigestContext() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
      throw BrickError("SHA-256: OpenSSL could not start a digest", BRICKS_INTERNAL);
    }
  }
  void update(const void* data, size_t size) {
    if (EVP_DigestUpdate(ctx.get(), data, size) != 1) {
      throw BrickError("SHA-256: OpenSSL digest update failed", BRICKS_INTERNAL);
    }
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
      throw BrickError("SHA-256: OpenSSL digest final failed", BRICKS_INTERNAL);
    }
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 15];
    }
    return out;
  }
};

}  // namespace

std::string sha256_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw BrickError(file.string() + ": cannot read for its SHA-256 (" + std::strerror(errno) +
                     ")");
  }
  DigestContext digest;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    digest.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw BrickError(file.string() + ": read error while hashing");
  return digest.hex();
}

std::string sha256_hex(std::string_view data) {
  DigestContext digest;
  digest.update(data.data(), data.size());
  return digest.hex();
}

}  // namespace bricks::host
