#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace impasto {

// SHA-256 (FIPS 180-4), fed incrementally so large downloads can be hashed
// without holding them in memory.
class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Pads and returns the digest; the object is reset afterwards and can be reused.
  Digest finish();
  std::string finishHex();

  static std::string toHex(const Digest& digest);
  static std::string hashHex(std::string_view bytes);

 private:
  void reset();
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t totalBytes_ = 0;
};

// Hashes a whole file in chunks; throws Error(Model) naming the file when it cannot be read.
std::string sha256File(const std::filesystem::path& path);

// True when `expected` (a full digest or a prefix of one, any case) matches the
// full hex digest `actual`. An empty expectation matches nothing: a caller that
// wants to skip the check must not ask.
bool sha256Matches(std::string_view expected, std::string_view actual);

}  // namespace impasto
