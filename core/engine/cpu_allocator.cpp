#include "core/engine/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace impasto {
namespace {

constexpr std::size_t kAlignment = 64;               // what LibTorch's own CPU allocator guarantees
constexpr std::size_t kSmallestCached = 256 * 1024;  // malloc's heap already reuses smaller blocks
constexpr std::size_t kGranule = 4096;               // sizes round up to whole pages
// Blocks held for reuse may take in use + held this far above the most ever
// in use at once: without a bound tied to the peak, blocks one phase frees
// (the targets' forward, a backward) sit idle through the next and add to the
// process's peak (550 MB at 1024 px on VGG-19). The slack keeps the few
// blocks whose sizes do not recur before the peak from being freed and
// faulted in again every step.
constexpr double kPeakSlack = 1.3;

std::size_t defaultBudget() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return std::size_t(2) << 30;
  return std::size_t(pages) * std::size_t(pageSize) / 2;
}

void* allocateAligned(std::size_t bytes) {
  void* data = nullptr;
  if (posix_memalign(&data, kAlignment, bytes) != 0) data = nullptr;
  return data;
}

void* checked(void* data, std::size_t bytes) {
  TORCH_CHECK(data, "Out of memory: could not allocate ", bytes, " bytes. Try a smaller size.");
  return data;
}

// Big blocks, in use or held for reuse by exact (page-rounded) size.
class BlockCache {
 public:
  void* acquire(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    if (bytes < kSmallestCached) return checked(allocateAligned(bytes), bytes);
    const std::size_t capacity = (bytes + kGranule - 1) / kGranule * kGranule;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = held_.find(capacity);
      if (it != held_.end()) {  // held lists are never empty
        void* data = it->second.back();
        it->second.pop_back();
        if (it->second.empty()) held_.erase(it);
        heldBytes_ -= capacity;
        markInUse(data, capacity);
        ++reused_;
        return data;
      }
      ++fresh_;
      freeHeldUntilFits(capacity);
    }
    void* data = allocateAligned(capacity);
    if (!data) {
      releaseAll();  // memory held for reuse may be what stands in the way
      data = checked(allocateAligned(capacity), bytes);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    markInUse(data, capacity);
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
        inUseBytes_ -= capacity;
        if (inUseBytes_ + heldBytes_ + capacity <= limit()) {
          held_[capacity].push_back(data);
          heldBytes_ += capacity;
          return;
        }
      }
    }
    // A small block, one over the budget, or one from LibTorch's default
    // allocator (posix_memalign too) that is freed through this allocator.
    std::free(data);
  }

  void releaseAll() {
    std::map<std::size_t, std::vector<void*>> held;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held.swap(held_);
      heldBytes_ = 0;
      peakInUse_ = inUseBytes_;  // what comes next (a level, a render) has its own sizes
    }
    for (auto& [capacity, blocks] : held)
      for (void* data : blocks) std::free(data);
  }

  void setBudget(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    budget_ = bytes;
    freeHeldUntilFits(0);
  }

  CpuAllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {heldBytes_, reused_, fresh_};
  }

 private:
  void markInUse(void* data, std::size_t capacity) {
    inUse_[data] = capacity;
    inUseBytes_ += capacity;
    peakInUse_ = std::max(peakInUse_, inUseBytes_);
  }

  // In use + held may reach this before held blocks are freed.
  std::size_t limit() const { return std::min(budget_, std::size_t(kPeakSlack * double(peakInUse_))); }

  // Before a new block of `bytes`: frees held blocks, the largest first, until in
  // use + held + bytes fits the limit. Called with the mutex held.
  void freeHeldUntilFits(std::size_t bytes) {
    // The new block may raise the peak itself.
    const std::size_t peak = std::max(peakInUse_, inUseBytes_ + bytes);
    const std::size_t cap = std::min(budget_, std::size_t(kPeakSlack * double(peak)));
    while (!held_.empty() && inUseBytes_ + heldBytes_ + bytes > cap) {
      auto largest = std::prev(held_.end());
      std::free(largest->second.back());
      largest->second.pop_back();
      heldBytes_ -= largest->first;
      if (largest->second.empty()) held_.erase(largest);
    }
  }

  mutable std::mutex mutex_;
  std::unordered_map<void*, std::size_t> inUse_;    // big blocks handed out → capacity
  std::map<std::size_t, std::vector<void*>> held_;  // capacity → freed blocks kept for reuse
  std::size_t inUseBytes_ = 0;
  std::size_t heldBytes_ = 0;
  std::size_t peakInUse_ = 0;
  std::size_t reused_ = 0;
  std::size_t fresh_ = 0;
  std::size_t budget_ = defaultBudget();
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

void setCpuMemoryBudget(std::size_t bytes) { blockCache().setBudget(bytes); }

CpuAllocatorStats cpuAllocatorStats() { return blockCache().stats(); }

}  // namespace impasto
