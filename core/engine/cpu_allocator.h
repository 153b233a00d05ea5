#pragma once

#include <cstddef>

namespace c10 {
struct Allocator;
}

namespace impasto {

// LibTorch allocates every intermediate tensor afresh, and glibc hands big blocks
// back to the kernel when they are freed, so each optimisation step page-faults
// all its activations in again: measured, a third to two thirds of a step on a
// small network. This allocator keeps the big blocks a step frees and hands them
// out again for the same sizes in the next step, as long as the blocks in use
// and held together stay within a budget (half the machine's memory, and 30%
// above the most ever in use at once); beyond
// it, held blocks are freed first, so a big render is never refused memory
// because of blocks kept for reuse.
//
// Install it once, first thing in main(): tensors allocated before it are freed
// correctly, but only the ones allocated after it are reused.
void installReusingCpuAllocator();

// Gives every cached block back to the system (e.g. when a render ends).
void releaseCachedCpuMemory();

// The budget for big blocks in use plus held (not a cap on what is in use).
void setCpuMemoryBudget(std::size_t bytes);

struct CpuAllocatorStats {
  std::size_t cachedBytes = 0;  // freed, held for reuse
  std::size_t reused = 0;       // allocations served from the cache
  std::size_t fresh = 0;        // cacheable allocations that needed new memory
};
CpuAllocatorStats cpuAllocatorStats();

// The allocator itself, for tests that drive it without installing it.
c10::Allocator& reusingCpuAllocator();

}  // namespace impasto
