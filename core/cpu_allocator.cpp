#include "core/cpu_allocator.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

namespace impasto {
namespace {

constexpr std::size_t kAlignment = 64;               // what LibTorch's own CPU allocator guarantees
constexpr std::size_t kSmallestCached = 256 * 1024;  // malloc's heap already reuses smaller blocks
constexpr std::size_t kGranule = 4096;               // sizes round up to whole pages

std::size_t idleLimit() {
  // Never keep more than a quarter of the machine's memory idle.
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return std::size_t(1) << 30;
  return std::size_t(pages) * std::size_t(pageSize) / 4;
}

void* allocateAligned(std::size_t bytes) {
  void* data = nullptr;
  if (posix_memalign(&data, kAlignment, bytes) != 0) data = nullptr;
  return data;
}

class BlockCache {
 public:
  void* acquire(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    if (bytes < kSmallestCached) return checked(allocateAligned(bytes), bytes);
    const std::size_t capacity = (bytes + kGranule - 1) / kGranule * kGranule;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = idle_.find(capacity);
      if (it != idle_.end() && !it->second.empty()) {
        void* data = it->second.back();
        it->second.pop_back();
        idleBytes_ -= capacity;
        inUse_[data] = capacity;
        ++reused_;
        return data;
      }
      ++fresh_;
    }
    void* data = allocateAligned(capacity);
    if (!data) {
      // Memory held for reuse may be what stands in the way.
      releaseAll();
      data = checked(allocateAligned(capacity), bytes);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    inUse_[data] = capacity;
    return data;
  }

  void release(void* data) {
    if (!data) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = inUse_.find(data);
      if (it != inUse_.end()) {
        const std::size_t capacity = it->second;
        inUse_.erase(it);
        if (idleBytes_ + capacity <= limit_) {
          idle_[capacity].push_back(data);
          idleBytes_ += capacity;
          return;
        }
      }
    }
    // A small block, one over the limit, or one from LibTorch's default
    // allocator (posix_memalign too) that is freed through this allocator.
    std::free(data);
  }

  void releaseAll() {
    std::unordered_map<std::size_t, std::vector<void*>> idle;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle.swap(idle_);
      idleBytes_ = 0;
    }
    for (auto& [capacity, blocks] : idle)
      for (void* data : blocks) std::free(data);
  }

  CpuAllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {idleBytes_, reused_, fresh_};
  }

 private:
  static void* checked(void* data, std::size_t bytes) {
    TORCH_CHECK(data, "Out of memory: could not allocate ", bytes, " bytes. Try a smaller size.");
    return data;
  }

  mutable std::mutex mutex_;
  std::unordered_map<void*, std::size_t> inUse_;               // cacheable blocks handed out → capacity
  std::unordered_map<std::size_t, std::vector<void*>> idle_;  // capacity → freed blocks
  std::size_t idleBytes_ = 0;
  std::size_t reused_ = 0;
  std::size_t fresh_ = 0;
  const std::size_t limit_ = idleLimit();
};

// Never destroyed: tensors in static objects may be freed after main() returns.
BlockCache& blockCache() {
  static auto* cache = new BlockCache;
  return *cache;
}

void releaseBlock(void* data) { blockCache().release(data); }

class ReusingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(std::size_t bytes) const override {
    void* data = blockCache().acquire(bytes);
    return {data, data, &releaseBlock, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &releaseBlock; }
};

}  // namespace

c10::Allocator& reusingCpuAllocator() {
  static auto* allocator = new ReusingCpuAllocator;
  return *allocator;
}

void installReusingCpuAllocator() {
  // Priority 1 outranks the default allocator's registration (0).
  c10::SetCPUAllocator(&reusingCpuAllocator(), 1);
}

void releaseCachedCpuMemory() { blockCache().releaseAll(); }

CpuAllocatorStats cpuAllocatorStats() { return blockCache().stats(); }

}  // namespace impasto
