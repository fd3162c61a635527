#pragma once

// HeaderMap: the headers of one HTTP message, in arrival order, with lower-case names. Storage is
// one arena string plus a vector of offsets, both reused across the requests of a connection
// (Clear() keeps capacity), so a keep-alive connection parses headers without allocating once
// warm. It is also routing's HeaderSource, so route matching reads it directly.
//
// Views returned by Get()/entries are invalidated by Add/Set (the arena may grow).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "routing/request_view.h"

namespace proxy::http {

class HeaderMap : public routing::HeaderSource {
 public:
  struct Entry {
    absl::string_view name;
    absl::string_view value;
  };

  void Clear() {
    arena_.clear();
    entries_.clear();
    live_ = 0;
  }

  // `name` must already be lower case.
  void Add(absl::string_view name, absl::string_view value) { Append(name, value, false); }
  // Adds a field as it arrived: `name` is lower-cased on the way in (the HTTP/1.1 parsers).
  void AddLowercasingName(absl::string_view name, absl::string_view value) {
    Append(name, value, true);
  }
  // Removes every header named `name`; returns how many were removed.
  size_t Remove(absl::string_view name);
  // Removes every field for which `pred(name, value)` is true; returns how many were removed.
  template <typename Pred>
  size_t RemoveIf(Pred&& pred) {
    size_t removed = 0;
    for (Slot& slot : entries_) {
      if (!slot.removed && pred(Name(slot), Value(slot))) {
        slot.removed = true;
        ++removed;
      }
    }
    live_ -= removed;
    return removed;
  }
  // Replaces all values of `name` with one.
  void Set(absl::string_view name, absl::string_view value) {
    Remove(name);
    Add(name, value);
  }

  // The first value of `name`, if any.
  std::optional<absl::string_view> Get(absl::string_view name) const;
  size_t Count(absl::string_view name) const;
  bool Has(absl::string_view name) const { return Get(name).has_value(); }

  size_t size() const { return live_; }
  // Total bytes of names and values (what header limits count).
  size_t ByteSize() const { return arena_.size(); }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& slot : entries_) {
      if (!slot.removed) fn(Name(slot), Value(slot));
    }
  }

  // routing::HeaderSource.
  void ForEachValue(absl::string_view lowercase_name,
                    absl::FunctionRef<void(absl::string_view)> fn) const override;

 private:
  struct Slot {
    uint32_t name_offset;
    uint32_t name_size;
    uint32_t value_offset;
    uint32_t value_size;
    bool removed;
  };
  void Append(absl::string_view name, absl::string_view value, bool lowercase_name);
  absl::string_view Name(const Slot& s) const {
    return absl::string_view(arena_.data() + s.name_offset, s.name_size);
  }
  absl::string_view Value(const Slot& s) const {
    return absl::string_view(arena_.data() + s.value_offset, s.value_size);
  }

  std::string arena_;
  std::vector<Slot> entries_;
  size_t live_ = 0;
};

}  // namespace proxy::http
