// The binary's malloc, free and operator new/delete: blocks for registered worker threads come
// from the process's WorkerHeap (proxy/worker_heap.h), everything else from tcmalloc through its
// tc_* entry points. Linked into the weir binary only (not into the sanitizer builds). A block is
// freed by whichever allocator's address range holds it, so memory may move between threads and
// libraries as before.

#include <gperftools/tcmalloc.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "proxy/worker_heap.h"

namespace {

using proxy::WorkerHeap;

// Constructed before main and never destroyed: blocks stay valid through exit.
alignas(WorkerHeap) char heap_storage[sizeof(WorkerHeap)];
[[maybe_unused]] const bool heap_installed = [] {
  auto* heap = new (heap_storage) WorkerHeap();
  if (heap->ok()) WorkerHeap::InstallProcessHeap(heap);
  return true;
}();

inline void* WorkerBlock(size_t size) {
  WorkerHeap* heap = WorkerHeap::ProcessHeap();
  return heap != nullptr ? heap->Allocate(WorkerHeap::ThisThread(), size) : nullptr;
}

// Frees `block` if it is the worker heap's.
inline bool FreeWorkerBlock(void* block) {
  WorkerHeap* heap = WorkerHeap::ProcessHeap();
  if (heap == nullptr || !heap->Contains(block)) return false;
  heap->Free(WorkerHeap::ThisThread(), block);
  return true;
}

inline void Release(void* block) {
  if (block != nullptr && !FreeWorkerBlock(block)) tc_free(block);
}

// Worker blocks are 16-byte aligned; larger alignments go to tcmalloc.
inline void* AlignedBlock(size_t alignment, size_t size) {
  if (alignment <= 16) {
    if (void* block = WorkerBlock(size)) return block;
  }
  return tc_memalign(alignment, size);
}

}  // namespace

extern "C" {

void* malloc(size_t size) noexcept {
  if (void* block = WorkerBlock(size)) return block;
  return tc_malloc(size);
}

void free(void* block) noexcept { Release(block); }

void* calloc(size_t count, size_t size) noexcept {
  if (size != 0 && count > SIZE_MAX / size) return tc_calloc(count, size);  // its overflow error
  if (void* block = WorkerBlock(count * size)) return std::memset(block, 0, count * size);
  return tc_calloc(count, size);
}

void* realloc(void* block, size_t size) noexcept {
  WorkerHeap* heap = WorkerHeap::ProcessHeap();
  if (block == nullptr) return malloc(size);
  if (heap == nullptr || !heap->Contains(block)) return tc_realloc(block, size);
  const size_t have = heap->BlockSize(block);
  if (size <= have && size > 0) return block;
  if (size == 0) {
    Release(block);
    return nullptr;
  }
  void* bigger = malloc(size);
  if (bigger == nullptr) return nullptr;
  std::memcpy(bigger, block, have);
  Release(block);
  return bigger;
}

void* aligned_alloc(size_t alignment, size_t size) noexcept {
  return AlignedBlock(alignment, size);
}

void* memalign(size_t alignment, size_t size) noexcept { return AlignedBlock(alignment, size); }

int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* block = AlignedBlock(alignment, size);
  if (block == nullptr) return ENOMEM;
  *out = block;
  return 0;
}

size_t malloc_usable_size(void* block) noexcept {
  if (block == nullptr) return 0;
  WorkerHeap* heap = WorkerHeap::ProcessHeap();
  if (heap != nullptr && heap->Contains(block)) return heap->BlockSize(block);
  return tc_malloc_size(block);
}

}  // extern "C"

void* operator new(size_t size) {
  if (void* block = WorkerBlock(size)) return block;
  return tc_new(size);
}
void* operator new[](size_t size) {
  if (void* block = WorkerBlock(size)) return block;
  return tc_newarray(size);
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  if (void* block = WorkerBlock(size)) return block;
  return tc_new_nothrow(size, std::nothrow);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  if (void* block = WorkerBlock(size)) return block;
  return tc_newarray_nothrow(size, std::nothrow);
}
void* operator new(size_t size, std::align_val_t alignment) {
  if (static_cast<size_t>(alignment) <= 16) {
    if (void* block = WorkerBlock(size)) return block;
  }
  return tc_new_aligned(size, alignment);
}
void* operator new[](size_t size, std::align_val_t alignment) {
  if (static_cast<size_t>(alignment) <= 16) {
    if (void* block = WorkerBlock(size)) return block;
  }
  return tc_newarray_aligned(size, alignment);
}
void* operator new(size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return AlignedBlock(static_cast<size_t>(alignment), size);
}
void* operator new[](size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return AlignedBlock(static_cast<size_t>(alignment), size);
}

void operator delete(void* block) noexcept { Release(block); }
void operator delete[](void* block) noexcept { Release(block); }
void operator delete(void* block, size_t) noexcept { Release(block); }
void operator delete[](void* block, size_t) noexcept { Release(block); }
void operator delete(void* block, const std::nothrow_t&) noexcept { Release(block); }
void operator delete[](void* block, const std::nothrow_t&) noexcept { Release(block); }
void operator delete(void* block, std::align_val_t) noexcept { Release(block); }
void operator delete[](void* block, std::align_val_t) noexcept { Release(block); }
void operator delete(void* block, size_t, std::align_val_t) noexcept { Release(block); }
void operator delete[](void* block, size_t, std::align_val_t) noexcept { Release(block); }
void operator delete(void* block, std::align_val_t, const std::nothrow_t&) noexcept {
  Release(block);
}
void operator delete[](void* block, std::align_val_t, const std::nothrow_t&) noexcept {
  Release(block);
}
