#include "core/engine/cpu_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "tests/support/aten_ops.h"

namespace impasto {
namespace {

constexpr std::size_t kBig = 3 * 1024 * 1024;

TEST(CpuAllocator, HandsAFreedBlockOutAgainForTheSameSize) {
  c10::Allocator& allocator = reusingCpuAllocator();
  void* first = nullptr;
  {
    c10::DataPtr block = allocator.allocate(kBig);
    first = block.get();
    ASSERT_NE(first, nullptr);
  }
  const CpuAllocatorStats before = cpuAllocatorStats();
  EXPECT_GE(before.cachedBytes, kBig);
  c10::DataPtr again = allocator.allocate(kBig);
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(cpuAllocatorStats().reused, before.reused + 1);
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, before.cachedBytes - kBig);
}

TEST(CpuAllocator, HeldBlocksGiveWayWhenTheBudgetIsReached) {
  c10::Allocator& allocator = reusingCpuAllocator();
  releaseCachedCpuMemory();
  setCpuMemoryBudget(3 * kBig);
  { c10::DataPtr a = allocator.allocate(kBig), b = allocator.allocate(kBig); }
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, 2 * kBig);
  // A new size: one held block is freed so that in use + held stays within 3 kBig.
  c10::DataPtr other = allocator.allocate(kBig);
  c10::DataPtr otherSize = allocator.allocate(kBig + 4096);
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, 0u);
  // Blocks freed beyond the budget are not held.
  other.clear();
  otherSize.clear();
  EXPECT_LE(cpuAllocatorStats().cachedBytes, 3 * kBig);
  setCpuMemoryBudget(std::size_t(1) << 40);
  releaseCachedCpuMemory();
}

// A phase that frees blocks of sizes the next phase does not use (the
// targets' forward, then the steps) must not add them to the process's peak.
TEST(CpuAllocator, HeldBlocksStayWithinThirtyPercentOfThePeakInUse) {
  c10::Allocator& allocator = reusingCpuAllocator();
  releaseCachedCpuMemory();
  {
    std::vector<c10::DataPtr> phase1;
    for (int i = 0; i < 10; ++i) phase1.push_back(allocator.allocate(kBig));
  }  // 10 kBig in use at the peak, all held now
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, 10 * kBig);
  // Ten blocks of another size: new memory, and the held ones make room, so
  // in use + held never exceeds 1.3 x the peak (13 kBig).
  std::vector<c10::DataPtr> phase2;
  for (int i = 0; i < 10; ++i) {
    phase2.push_back(allocator.allocate(kBig + 8192));
    EXPECT_LE((i + 1) * (kBig + 8192) + cpuAllocatorStats().cachedBytes, 13 * kBig + 13 * 8192) << i;
  }
  phase2.clear();
  releaseCachedCpuMemory();
}

TEST(CpuAllocator, AlignsEveryBlockLikeLibTorch) {
  c10::Allocator& allocator = reusingCpuAllocator();
  for (std::size_t bytes : {std::size_t(1), std::size_t(100), std::size_t(4096), kBig, kBig + 7}) {
    c10::DataPtr block = allocator.allocate(bytes);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block.get()) % 64, 0u) << bytes;
  }
  EXPECT_EQ(allocator.allocate(0).get(), nullptr);
}

TEST(CpuAllocator, LeavesSmallBlocksToMalloc) {
  c10::Allocator& allocator = reusingCpuAllocator();
  const CpuAllocatorStats before = cpuAllocatorStats();
  { c10::DataPtr block = allocator.allocate(1000); }
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, before.cachedBytes);
  EXPECT_EQ(cpuAllocatorStats().fresh, before.fresh);
}

TEST(CpuAllocator, ReleaseGivesEverythingBack) {
  c10::Allocator& allocator = reusingCpuAllocator();
  { c10::DataPtr block = allocator.allocate(kBig); }
  EXPECT_GT(cpuAllocatorStats().cachedBytes, 0u);
  releaseCachedCpuMemory();
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, 0u);
  const std::size_t fresh = cpuAllocatorStats().fresh;
  c10::DataPtr block = allocator.allocate(kBig);
  EXPECT_EQ(cpuAllocatorStats().fresh, fresh + 1);
}

TEST(CpuAllocator, FreesBlocksItDidNotAllocate) {
  // LibTorch's default allocator uses posix_memalign; such blocks can reach our
  // deleter when they were allocated before installation.
  void* foreign = nullptr;
  ASSERT_EQ(posix_memalign(&foreign, 64, kBig), 0);
  const CpuAllocatorStats before = cpuAllocatorStats();
  reusingCpuAllocator().raw_deallocate(foreign);
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, before.cachedBytes);
}

TEST(CpuAllocator, InstalledTensorsComputeAsBefore) {
  at::manual_seed(9);
  at::Tensor input = at::rand({1, 3, 256, 256});
  at::Tensor weight = at::randn({16, 3, 3, 3});
  auto gradient = [&] {
    at::Tensor x = input.clone().set_requires_grad(true);
    at::conv2d(x, weight, {}, 1, 1).relu().pow(2).sum().backward();
    return x.grad().clone();
  };
  at::Tensor expected = gradient();
  installReusingCpuAllocator();
  const std::size_t reused = cpuAllocatorStats().reused;
  at::Tensor first = gradient();
  at::Tensor second = gradient();
  EXPECT_GT(cpuAllocatorStats().reused, reused);  // the second pass ran in the first's memory
  EXPECT_TRUE(at::equal(first, expected));
  EXPECT_TRUE(at::equal(second, expected));
}

TEST(CpuAllocator, ThreadsShareTheCacheSafely) {
  c10::Allocator& allocator = reusingCpuAllocator();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&allocator, t] {
      for (int i = 0; i < 200; ++i) {
        c10::DataPtr block = allocator.allocate(kBig + std::size_t(i % 3) * 4096);
        static_cast<unsigned char*>(block.get())[0] = static_cast<unsigned char>(t);
      }
    });
  for (auto& thread : threads) thread.join();
  releaseCachedCpuMemory();
  EXPECT_EQ(cpuAllocatorStats().cachedBytes, 0u);
}

}  // namespace
}  // namespace impasto
