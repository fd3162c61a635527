#pragma once

// ShardSet: the storage behind every metric value, built so that an update takes no lock and no
// atomic read-modify-write. Each metric owns a range of uint64 "slots". Each thread that updates
// a ShardSet gets its own shard: a copy of every slot that only that thread writes, so an update
// is a relaxed load plus a relaxed store. Readers sum a slot over all shards. A shard is made of
// fixed-size chunks behind a fixed array of chunk pointers, so it grows without moving: when a
// metric needs slots past the current capacity, the new chunk is added to every shard.
//
// Costs: memory is (threads that ever updated) x (slots) x 8 bytes. Shards outlive their threads
// (values are cumulative) and are not reused, so this suits long-lived worker threads, not
// threads created per task.

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace stats {

class ShardSet {
 public:
  static constexpr uint32_t kChunkSlots = 4096;
  static constexpr uint32_t kMaxChunks = 1024;
  static constexpr uint32_t kMaxSlots = kChunkSlots * kMaxChunks;

  // One thread's copy of the slots. Only the owning thread writes it.
  class Shard {
   public:
    // Single writer, so load + store is enough; relaxed because readers only need each slot's
    // value to be untorn, not ordered with anything else.
    void Add(uint32_t slot, uint64_t n) {
      std::atomic<uint64_t>& s = Slot(slot);
      s.store(s.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

   private:
    friend class ShardSet;
    struct Chunk {
      std::array<std::atomic<uint64_t>, kChunkSlots> slots{};
    };

    // Acquire pairs with the release that published the chunk.
    std::atomic<uint64_t>& Slot(uint32_t slot) {
      return chunks_[slot / kChunkSlots].load(std::memory_order_acquire)->slots[slot % kChunkSlots];
    }

    uint64_t thread_ = 0;    // Serial of the owning thread (never reused, unlike std::thread::id).
    Shard* next_ = nullptr;  // Immutable once the shard is published.
    std::array<std::atomic<Chunk*>, kMaxChunks> chunks_{};
  };

  ShardSet();
  ~ShardSet();
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  // The calling thread's shard. The fast path is a thread-local cache keyed by this set's id,
  // which unlike its address is never reused by a later ShardSet.
  Shard& Local() {
    if (tls_cache_.owner == id_) return *tls_cache_.shard;
    return AttachLocal();
  }

  // Sum of `slot` over all shards. Lock-free; may run concurrently with updates.
  uint64_t Sum(uint32_t slot) const;

  // Reserves `n` consecutive zeroed slots and returns the first, or nullopt once kMaxSlots would
  // be exceeded. Slots are never freed.
  std::optional<uint32_t> Allocate(uint32_t n);

 private:
  struct Cache {
    uint64_t owner;  // ShardSet id; ids start at 1.
    Shard* shard;
  };
  // Constant-initialized and trivially destructible, so access needs no TLS init guard.
  static constinit inline thread_local Cache tls_cache_{};

  Shard& AttachLocal();

  const uint64_t id_;
  std::atomic<Shard*> head_{nullptr};  // Newest first; shards are only ever added.
  absl::Mutex mu_;
  uint32_t num_slots_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t num_chunks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stats
