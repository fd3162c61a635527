#include "stats/shard_set.h"

namespace stats {
namespace {

uint64_t NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

ShardSet::ShardSet() : id_(NextId()) {}

ShardSet::~ShardSet() {
  // Threads may still cache a pointer to their shard, but under this set's id, which no later set
  // reuses, so the pointer is never followed again.
  Shard* shard = head_.load(std::memory_order_acquire);
  while (shard != nullptr) {
    Shard* next = shard->next_;
    for (std::atomic<Shard::Chunk*>& chunk : shard->chunks_) delete chunk.load();
    delete shard;
    shard = next;
  }
}

uint64_t ShardSet::Sum(uint32_t slot) const {
  // Every published shard has a chunk for every allocated slot: chunks are added to all shards
  // before Allocate returns, and a new shard gets all existing chunks before it is published.
  uint64_t total = 0;
  for (const Shard* s = head_.load(std::memory_order_acquire); s != nullptr; s = s->next_) {
    total += s->chunks_[slot / kChunkSlots]
                 .load(std::memory_order_acquire)
                 ->slots[slot % kChunkSlots]
                 .load(std::memory_order_relaxed);
  }
  return total;
}

std::optional<uint32_t> ShardSet::Allocate(uint32_t n) {
  absl::MutexLock lock(&mu_);
  if (n > kMaxSlots - num_slots_) return std::nullopt;
  const uint32_t first = num_slots_;
  num_slots_ += n;
  for (; num_chunks_ * kChunkSlots < num_slots_; ++num_chunks_) {
    for (Shard* s = head_.load(std::memory_order_relaxed); s != nullptr; s = s->next_) {
      s->chunks_[num_chunks_].store(new Shard::Chunk(), std::memory_order_release);
    }
  }
  return first;
}

ShardSet::Shard& ShardSet::AttachLocal() {
  static std::atomic<uint64_t> next_thread{1};
  thread_local const uint64_t thread = next_thread.fetch_add(1, std::memory_order_relaxed);
  // Only this thread adds shards with its serial, so if none is found none can appear meanwhile.
  Shard* shard = head_.load(std::memory_order_acquire);
  while (shard != nullptr && shard->thread_ != thread) shard = shard->next_;
  if (shard == nullptr) {
    absl::MutexLock lock(&mu_);
    shard = new Shard();
    shard->thread_ = thread;
    shard->next_ = head_.load(std::memory_order_relaxed);
    for (uint32_t c = 0; c < num_chunks_; ++c) {
      shard->chunks_[c].store(new Shard::Chunk(), std::memory_order_relaxed);
    }
    head_.store(shard, std::memory_order_release);
  }
  tls_cache_ = {id_, shard};
  return *shard;
}

}  // namespace stats
