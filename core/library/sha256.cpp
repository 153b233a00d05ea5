#include "core/library/sha256.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <new>
#include <vector>

#include "core/util/error.h"

namespace impasto {

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr) throw std::bad_alloc();
  reset();
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_); }

void Sha256::reset() {
  if (EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) != 1)
    throw Error(ErrorKind::Internal, "OpenSSL cannot compute SHA-256 on this system");
}

void Sha256::update(const void* data, std::size_t size) {
  if (size > 0) EVP_DigestUpdate(context_, data, size);
}

Sha256::Digest Sha256::finish() {
  Digest digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_, digest.data(), &length);
  reset();
  return digest;
}

std::string Sha256::finishHex() { return toHex(finish()); }

std::string Sha256::toHex(const Digest& digest) {
  static const char* const kDigits = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (std::uint8_t byte : digest) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xf]);
  }
  return hex;
}

std::string Sha256::hashHex(std::string_view bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.finishHex();
}

std::string sha256File(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Model, "Cannot read " + path.string() + " to check its SHA-256.");
  Sha256 hash;
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    hash.update(chunk.data(), std::size_t(in.gcount()));
  }
  if (in.bad())
    throw Error(ErrorKind::Model, "Reading " + path.string() + " failed while checking its SHA-256.");
  return hash.finishHex();
}

bool sha256Matches(std::string_view expected, std::string_view actual) {
  if (expected.empty() || expected.size() > actual.size()) return false;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(expected[i])) !=
        std::tolower(static_cast<unsigned char>(actual[i])))
      return false;
  }
  return true;
}

}  // namespace impasto
