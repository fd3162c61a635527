#pragma once

// EdfScheduler: earliest-deadline-first weighted scheduling, as Envoy's EdfScheduler
// (source/common/upstream/edf_scheduler.h). An entry added with weight w gets the deadline
// current_time + 1/w; a pick takes the earliest deadline (ties: first added first), advances
// current_time to it and re-adds the entry with a freshly computed weight. Over many picks each
// entry is chosen in proportion to its weight, evenly interleaved. Used by weighted ROUND_ROBIN
// (fixed weights) and weighted LEAST_REQUEST (weight / (active + 1), recomputed on re-add).
// Per worker, mutable, not thread-safe; no allocation after the entries are added.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace routing::lb {

class EdfScheduler {
 public:
  // Adds entry `id` with `weight` (> 0).
  void Add(size_t id, double weight) {
    heap_.push_back({current_time_ + 1.0 / weight, next_order_++, id});
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }

  // Picks the entry with the earliest deadline and re-adds it with weight weight_fn(id).
  // Must not be called when empty().
  template <typename WeightFn>
  size_t PickAndAdd(WeightFn weight_fn) {
    // Pop and push in one: the picked entry is replaced in place and sifted down. The order is a
    // strict total order (deadline, then insertion), so picks do not depend on the heap layout.
    Entry& top = heap_.front();
    const size_t id = top.id;
    current_time_ = top.deadline;
    top = {current_time_ + 1.0 / weight_fn(id), next_order_++, id};
    SiftDown();
    return id;
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    double deadline;
    uint64_t order;  // insertion order: FIFO among equal deadlines
    size_t id;
  };
  // Heap comparator: `a` is served after `b` (std heaps keep the "largest" on top).
  static bool Later(const Entry& a, const Entry& b) {
    if (a.deadline != b.deadline) return a.deadline > b.deadline;
    return a.order > b.order;
  }

  // Restores the heap after the root was replaced (a min-heap on (deadline, order)).
  void SiftDown() {
    const size_t n = heap_.size();
    size_t i = 0;
    const Entry moving = heap_[0];
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Later(heap_[child], heap_[child + 1])) ++child;
      if (!Later(moving, heap_[child])) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = moving;
  }

  std::vector<Entry> heap_;
  double current_time_ = 0;
  uint64_t next_order_ = 0;
};

}  // namespace routing::lb
