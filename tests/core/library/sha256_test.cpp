#include "core/library/sha256.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/util/error.h"

namespace impasto {
namespace {

// Test vectors from FIPS 180-4's examples (NIST CSRC "SHA256.pdf").
TEST(Sha256Test, EmptyString) {
  EXPECT_EQ(Sha256::hashHex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, Abc) {
  EXPECT_EQ(Sha256::hashHex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlockMessage448Bits) {
  EXPECT_EQ(Sha256::hashHex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, MillionA) {
  Sha256 hash;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) hash.update(chunk);
  EXPECT_EQ(hash.finishHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalUpdatesMatchOneShotForEverySplit) {
  std::mt19937 rng(42);
  std::string data(300, '\0');
  for (char& c : data) c = char(rng());
  const std::string whole = Sha256::hashHex(data);
  // Splits around the 55/56/64-byte padding boundaries are where bugs hide.
  for (std::size_t split = 0; split <= data.size(); ++split) {
    Sha256 hash;
    hash.update(std::string_view(data).substr(0, split));
    hash.update(std::string_view(data).substr(split));
    ASSERT_EQ(hash.finishHex(), whole) << "split at " << split;
  }
}

TEST(Sha256Test, PaddingBoundaryLengths) {
  // Lengths 55, 56 and 64 need one, two and two padding blocks respectively.
  EXPECT_EQ(Sha256::hashHex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Sha256::hashHex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Sha256::hashHex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256Test, ObjectIsReusableAfterFinish) {
  Sha256 hash;
  hash.update("garbage");
  hash.finish();
  hash.update("abc");
  EXPECT_EQ(hash.finishHex(), Sha256::hashHex("abc"));
}

TEST(Sha256Test, FileHashMatchesInMemoryHash) {
  const auto path = std::filesystem::temp_directory_path() / "impasto_sha256_test.bin";
  std::string data(3 << 20, 'x');  // several read chunks
  data[12345] = 'y';
  {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }
  EXPECT_EQ(sha256File(path), Sha256::hashHex(data));
  std::filesystem::remove(path);
}

TEST(Sha256Test, MissingFileThrowsError) { EXPECT_THROW(sha256File("/nonexistent/impasto/file.bin"), Error); }

TEST(Sha256Test, PrefixMatching) {
  const std::string digest = Sha256::hashHex("abc");
  EXPECT_TRUE(sha256Matches("ba7816bf", digest));
  EXPECT_TRUE(sha256Matches("BA7816BF", digest));
  EXPECT_TRUE(sha256Matches(digest, digest));
  EXPECT_FALSE(sha256Matches("ba7816bE", digest));
  EXPECT_FALSE(sha256Matches("", digest));
  EXPECT_FALSE(sha256Matches(digest + "0", digest));
}

}  // namespace
}  // namespace impasto
