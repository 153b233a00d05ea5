#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace impasto {

// SHA-256 by OpenSSL's libcrypto, fed incrementally so large downloads can be
// hashed without holding them in memory.
class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Pads and returns the digest; the object is reset afterwards and can be reused.
  Digest finish();
  std::string finishHex();

  static std::string toHex(const Digest& digest);
  static std::string hashHex(std::string_view bytes);

 private:
  void reset();

  ::evp_md_ctx_st* context_;
};

// Hashes a whole file in chunks; throws Error(Model) naming the file when it cannot be read.
std::string sha256File(const std::filesystem::path& path);

// True when `expected` (a full digest or a prefix of one, any case) matches the
// full hex digest `actual`. An empty expectation matches nothing: a caller that
// wants to skip the check must not ask.
bool sha256Matches(std::string_view expected, std::string_view actual);

}  // namespace impasto
