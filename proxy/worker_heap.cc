#include "proxy/worker_heap.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <new>

namespace proxy {
namespace {

// tcmalloc-like classes, not powers of two: blocks of one class at power-of-two strides would
// all map to the same few cache sets (measured: the fresh cost rose about 2% with them).
constexpr std::array<uint32_t, 28> kClassSize = {
    16,  32,  48,  64,  80,  96,   112,  128,  160,  192,  224,  256,  320,  384,
    448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096};
constexpr int kClasses = kClassSize.size();
constexpr size_t kThreadBytes = 16 << 20;  // kClasses slabs of 512 KiB, rounded up
static_assert(kClasses * WorkerHeap::kSlabBytes <= kThreadBytes);
static_assert(kClassSize.back() == WorkerHeap::kMaxBlock);
constexpr int kLeaves = 64;  // 64 leaves × 64 slots

struct Tables {
  std::array<uint8_t, WorkerHeap::kMaxBlock / 16 + 1> class_of_units{};  // by ceil(size / 16)
  // ceil(2^32 / size): offset * reciprocal >> 32 == offset / size for every offset in a slab
  // (exact while offset × size < 2^32; 512 KiB × 4 KiB = 2^31).
  std::array<uint64_t, kClasses> reciprocal{};
  constexpr Tables() {
    int c = 0;
    for (size_t units = 0; units < class_of_units.size(); ++units) {
      while (kClassSize[c] < units * 16) ++c;
      class_of_units[units] = c;
    }
    for (int k = 0; k < kClasses; ++k) {
      reciprocal[k] = ((uint64_t{1} << 32) + kClassSize[k] - 1) / kClassSize[k];
    }
  }
};
constexpr Tables kTables;
static_assert(WorkerHeap::kSlabBytes * WorkerHeap::kMaxBlock <= (uint64_t{1} << 32));

int SlotsIn(int size_class) {
  return std::min<size_t>(kLeaves * 64, WorkerHeap::kSlabBytes / kClassSize[size_class]);
}

}  // namespace

// Owner-only bitmaps first; the remote bitmap other threads write sits on its own cache lines.
struct WorkerHeap::SizeClass {
  uint64_t leaves_with_free = 0;  // bit i: free_slots[i] != 0
  uint64_t free_slots[kLeaves] = {};
  alignas(64) std::atomic<bool> has_remote_frees{false};
  std::atomic<uint64_t> remote_frees[kLeaves] = {};
};

WorkerHeap::WorkerHeap() {
  const size_t reserve = size_t{kMaxThreads} * kThreadBytes;
  const size_t metadata = sizeof(SizeClass) * kMaxThreads * kClasses;
  // Address space only: pages are committed as blocks are first touched, lowest first.
  void* base = mmap(nullptr, reserve, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  void* classes = mmap(nullptr, metadata, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED || classes == MAP_FAILED) {
    if (base != MAP_FAILED) munmap(base, reserve);
    if (classes != MAP_FAILED) munmap(classes, metadata);
    return;
  }
  base_ = static_cast<char*>(base);
  reserved_bytes_ = reserve;
  classes_ = static_cast<SizeClass*>(classes);  // a thread's classes are set up as it registers
}

WorkerHeap::~WorkerHeap() {
  if (base_ == nullptr) return;
  munmap(base_, reserved_bytes_);
  munmap(classes_, sizeof(SizeClass) * kMaxThreads * kClasses);
}

int WorkerHeap::RegisterThread() {
  if (!ok()) return -1;
  const int thread = next_thread_.fetch_add(1, std::memory_order_relaxed);
  if (thread >= kMaxThreads) return -1;
  for (int c = 0; c < kClasses; ++c) {
    SizeClass& size_class = *new (&Class(thread, c)) SizeClass();
    const int slots = SlotsIn(c);
    for (int leaf = 0; leaf * 64 < slots; ++leaf) {
      const int in_leaf = std::min(64, slots - leaf * 64);
      size_class.free_slots[leaf] = in_leaf == 64 ? ~uint64_t{0} : (uint64_t{1} << in_leaf) - 1;
      size_class.leaves_with_free |= uint64_t{1} << leaf;
    }
  }
  return thread;
}

WorkerHeap::SizeClass& WorkerHeap::Class(int thread, int size_class) const {
  return classes_[thread * kClasses + size_class];
}

void WorkerHeap::TakeRemoteFrees(SizeClass& size_class) {
  // A plain load first: a class that stays full (more blocks in use than slots) comes here on
  // every allocation, and a locked exchange each time would cost more than the check.
  if (!size_class.has_remote_frees.load(std::memory_order_relaxed) ||
      !size_class.has_remote_frees.exchange(false, std::memory_order_acquire)) {
    return;
  }
  for (int leaf = 0; leaf < kLeaves; ++leaf) {
    const uint64_t freed = size_class.remote_frees[leaf].exchange(0, std::memory_order_acquire);
    if (freed == 0) continue;
    size_class.free_slots[leaf] |= freed;
    size_class.leaves_with_free |= uint64_t{1} << leaf;
  }
}

void* WorkerHeap::Allocate(int thread, size_t size) {
  if (thread < 0 || size > kMaxBlock) return nullptr;
  const int c = kTables.class_of_units[(size + 15) >> 4];
  SizeClass& size_class = Class(thread, c);
  if (size_class.leaves_with_free == 0) {
    TakeRemoteFrees(size_class);
    if (size_class.leaves_with_free == 0) return nullptr;
  }
  const int leaf = __builtin_ctzll(size_class.leaves_with_free);
  uint64_t& slots = size_class.free_slots[leaf];
  const int slot = leaf * 64 + __builtin_ctzll(slots);
  slots &= slots - 1;
  if (slots == 0) size_class.leaves_with_free &= ~(uint64_t{1} << leaf);
  return base_ + thread * kThreadBytes + c * kSlabBytes + size_t(slot) * kClassSize[c];
}

void WorkerHeap::Free(int thread, void* block) {
  const size_t offset = static_cast<char*>(block) - base_;
  const int owner = offset / kThreadBytes;
  const int c = offset % kThreadBytes / kSlabBytes;
  const size_t slot = (offset % kSlabBytes * kTables.reciprocal[c]) >> 32;
  const int leaf = slot / 64;
  const uint64_t bit = uint64_t{1} << (slot % 64);
  SizeClass& size_class = Class(owner, c);
  if (owner == thread) {
    size_class.free_slots[leaf] |= bit;
    size_class.leaves_with_free |= uint64_t{1} << leaf;
  } else {
    size_class.remote_frees[leaf].fetch_or(bit, std::memory_order_release);
    size_class.has_remote_frees.store(true, std::memory_order_release);
  }
}

size_t WorkerHeap::BlockSize(const void* block) const {
  const size_t offset = static_cast<const char*>(block) - base_;
  return kClassSize[offset % kThreadBytes / kSlabBytes];
}

void WorkerHeap::UseOnThisThread() {
  if (process_heap_ != nullptr && this_thread_ < 0) this_thread_ = process_heap_->RegisterThread();
}

}  // namespace proxy
