#include "proxy/http/header_map.h"

#include <algorithm>

namespace proxy::http {

namespace {
// First allocation sizes: a typical request or response head fits, so building a map is two
// allocations instead of one per doubling.
constexpr size_t kInitialArenaBytes = 512;
constexpr size_t kInitialSlots = 16;
}  // namespace

void HeaderMap::Append(absl::string_view name, absl::string_view value, bool lowercase_name) {
  if (entries_.capacity() == 0) {
    entries_.reserve(kInitialSlots);
    arena_.reserve(std::max(kInitialArenaBytes, name.size() + value.size()));
  }
  Slot slot;
  slot.name_offset = static_cast<uint32_t>(arena_.size());
  slot.name_size = static_cast<uint32_t>(name.size());
  arena_.append(name.data(), name.size());
  if (lowercase_name) {
    char* const end = arena_.data() + arena_.size();  // hoisted: the writes could alias arena_
    for (char* c = end - name.size(); c != end; ++c) {
      if (*c >= 'A' && *c <= 'Z') *c = static_cast<char>(*c + ('a' - 'A'));
    }
  }
  slot.value_offset = static_cast<uint32_t>(arena_.size());
  slot.value_size = static_cast<uint32_t>(value.size());
  arena_.append(value.data(), value.size());
  slot.removed = false;
  entries_.push_back(slot);
  ++live_;
}

size_t HeaderMap::Remove(absl::string_view name) {
  size_t removed = 0;
  for (Slot& slot : entries_) {
    if (!slot.removed && Name(slot) == name) {
      slot.removed = true;
      ++removed;
    }
  }
  live_ -= removed;
  return removed;
}

std::optional<absl::string_view> HeaderMap::Get(absl::string_view name) const {
  for (const Slot& slot : entries_) {
    if (!slot.removed && Name(slot) == name) return Value(slot);
  }
  return std::nullopt;
}

size_t HeaderMap::Count(absl::string_view name) const {
  size_t count = 0;
  for (const Slot& slot : entries_) {
    if (!slot.removed && Name(slot) == name) ++count;
  }
  return count;
}

void HeaderMap::ForEachValue(absl::string_view lowercase_name,
                             absl::FunctionRef<void(absl::string_view)> fn) const {
  for (const Slot& slot : entries_) {
    if (!slot.removed && Name(slot) == lowercase_name) fn(Value(slot));
  }
}

}  // namespace proxy::http
