#pragma once

// WorkerHeap: the small blocks (up to 4 KiB) a worker thread allocates, kept dense in address
// order in front of tcmalloc. Each registered thread owns a fixed address range with one slab per
// size class, and a block is always the lowest free slot of its class, found through a two-level
// bitmap. So however many blocks a burst of streams once needed, the blocks in use afterwards are
// packed at the bottom of each slab, and a request touches as few cache lines and pages as on a
// fresh process. tcmalloc's free lists keep the order blocks were freed in: after a burst of 1 024
// concurrent streams, weir's per-request blocks stayed spread over the burst's memory and a
// request cost 3–5% more CPU for as long as the process lived (bench/RESULTS.md, "Why 64 × 1 stays
// above HAProxy"). A block freed by another thread is marked in the owner's remote bitmap
// (atomic), which the owner takes back when its own bitmap runs out. A full class, a larger
// block, an alignment above 16 and any thread not registered go to tcmalloc.
//
// The binary routes malloc and operator new here (worker_heap_malloc.cc, not in sanitizer
// builds, which keep their own allocator); Worker threads register themselves. Elsewhere (unit
// tests) ProcessHeap() is null and UseOnThisThread() does nothing.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace proxy {

class WorkerHeap {
 public:
  static constexpr size_t kMaxBlock = 4096;
  static constexpr int kMaxThreads = 64;
  // Address range per size class and thread: 512 KiB (at most 4 096 slots).
  static constexpr size_t kSlabBytes = 512 * 1024;

  // Reserves the address space (kMaxThreads × 28 slabs, not committed until touched).
  WorkerHeap();
  ~WorkerHeap();
  WorkerHeap(const WorkerHeap&) = delete;
  WorkerHeap& operator=(const WorkerHeap&) = delete;

  bool ok() const { return base_ != nullptr; }
  // A thread index for the caller to pass to Allocate/Free, or -1 when all are taken.
  int RegisterThread();

  // The lowest free block of at least `size` bytes (16-byte aligned) in `thread`'s slabs, or
  // nullptr (thread -1, size above kMaxBlock, or the class is full).
  void* Allocate(int thread, size_t size);
  bool Contains(const void* block) const {
    return reinterpret_cast<uintptr_t>(block) - reinterpret_cast<uintptr_t>(base_) <
           reserved_bytes_;
  }
  // `block` must be Contains(); `thread` is the caller's index (-1 if it has none).
  void Free(int thread, void* block);
  size_t BlockSize(const void* block) const;

  // The heap malloc uses in this process, or nullptr (set once, before main, by
  // worker_heap_malloc.cc).
  static WorkerHeap* ProcessHeap() { return process_heap_; }
  static void InstallProcessHeap(WorkerHeap* heap) { process_heap_ = heap; }
  // The calling thread's index in ProcessHeap() (-1: allocations go to tcmalloc).
  static int ThisThread() { return this_thread_; }
  // Registers the calling thread with ProcessHeap(), if there is one.
  static void UseOnThisThread();

 private:
  struct SizeClass;
  SizeClass& Class(int thread, int size_class) const;
  static void TakeRemoteFrees(SizeClass& size_class);

  char* base_ = nullptr;
  size_t reserved_bytes_ = 0;
  SizeClass* classes_ = nullptr;  // kMaxThreads × kClasses, owned (mmap)
  std::atomic<int> next_thread_{0};

  static inline constinit WorkerHeap* process_heap_ = nullptr;
  static inline constinit thread_local int this_thread_ = -1;
};

}  // namespace proxy
