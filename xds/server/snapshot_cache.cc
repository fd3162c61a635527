#include "xds/server/snapshot_cache.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace xds::server {
namespace {

std::string Describe(const TypeStatus& type) {
  return absl::StrCat("sent \"", type.sent_version, "\" (nonce \"", type.last_nonce,
                      "\"), acked \"", type.acked_version, "\", last NACK of \"",
                      type.nacked_version, "\": ", type.error_detail);
}

const TypeStatus* FindType(const NodeStatus& node, absl::string_view type_url) {
  auto it = node.types.find(std::string(type_url));
  return it == node.types.end() ? nullptr : &it->second;
}

}  // namespace

void SnapshotCache::SetSnapshot(const std::string& node_id, Snapshot snapshot) {
  Change(node_id, std::make_shared<const Snapshot>(std::move(snapshot)));
}

void SnapshotCache::SetSnapshot(const std::string& node_id,
                                std::shared_ptr<const Snapshot> snapshot) {
  if (snapshot != nullptr) Change(node_id, std::move(snapshot));
}

void SnapshotCache::ClearSnapshot(const std::string& node_id) { Change(node_id, nullptr); }

void SnapshotCache::Change(const std::string& node_id, std::shared_ptr<const Snapshot> snapshot) {
  std::vector<std::pair<SnapshotCallback, std::shared_ptr<const Snapshot>>> notify;
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    if (snapshot != nullptr) {
      snapshots_[node_id] = std::move(snapshot);
    } else {
      snapshots_.erase(node_id);
    }
    generation = ++generation_;
    const bool any = node_id == kAnyNode;
    for (const auto& [id, stream] : streams_) {
      // A kAnyNode change reaches the nodes that have no snapshot of their own.
      if (any ? snapshots_.contains(stream.node_id) : stream.node_id != node_id) continue;
      notify.emplace_back(stream.on_change, EffectiveLocked(stream.node_id));
    }
  }
  // Outside the lock: a stream takes its own lock and may call back into the cache.
  for (auto& [on_change, effective] : notify) on_change(generation, std::move(effective));
}

std::shared_ptr<const Snapshot> SnapshotCache::EffectiveLocked(const std::string& node_id) const {
  auto it = snapshots_.find(node_id);
  if (it == snapshots_.end()) it = snapshots_.find(std::string(kAnyNode));
  return it == snapshots_.end() ? nullptr : it->second;
}

std::shared_ptr<const Snapshot> SnapshotCache::GetSnapshot(const std::string& node_id) const {
  absl::MutexLock lock(&mu_);
  return EffectiveLocked(node_id);
}

std::map<std::string, NodeStatus> SnapshotCache::GetStatus() const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, NodeStatus> status = status_;
  for (const auto& [node_id, snapshot] : snapshots_) status.try_emplace(node_id);
  return status;
}

NodeStatus SnapshotCache::GetNodeStatus(const std::string& node_id) const {
  absl::MutexLock lock(&mu_);
  auto it = status_.find(node_id);
  return it == status_.end() ? NodeStatus{} : it->second;
}

bool SnapshotCache::WaitForNode(const std::string& node_id,
                                const std::function<bool(const NodeStatus&)>& predicate,
                                absl::Duration timeout) const {
  const NodeStatus empty;
  auto holds = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = status_.find(node_id);
    return predicate(it == status_.end() ? empty : it->second);
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&holds), timeout);
}

absl::Status SnapshotCache::WaitForAck(const std::string& node_id, absl::string_view type_url,
                                       absl::string_view version, absl::Duration timeout) const {
  auto acked = [&](const NodeStatus& node) {
    const TypeStatus* type = FindType(node, type_url);
    return type != nullptr && type->acked_version == version;
  };
  if (WaitForNode(node_id, acked, timeout)) return absl::OkStatus();
  const NodeStatus node = GetNodeStatus(node_id);
  const TypeStatus* type = FindType(node, type_url);
  return absl::DeadlineExceededError(
      absl::StrCat("node \"", node_id, "\" did not ACK version \"", version, "\" of ", type_url,
                   " within ", absl::FormatDuration(timeout), "; ",
                   type == nullptr ? "it never requested the type" : Describe(*type)));
}

absl::StatusOr<std::string> SnapshotCache::WaitForNack(const std::string& node_id,
                                                       absl::string_view type_url,
                                                       absl::string_view version,
                                                       absl::Duration timeout) const {
  auto nacked = [&](const NodeStatus& node) {
    const TypeStatus* type = FindType(node, type_url);
    return type != nullptr && type->nacks > 0 && type->nacked_version == version;
  };
  bool ok = WaitForNode(node_id, nacked, timeout);
  const NodeStatus node = GetNodeStatus(node_id);
  const TypeStatus* type = FindType(node, type_url);
  if (ok) return type->error_detail;
  return absl::DeadlineExceededError(
      absl::StrCat("node \"", node_id, "\" did not NACK version \"", version, "\" of ", type_url,
                   " within ", absl::FormatDuration(timeout), "; ",
                   type == nullptr ? "it never requested the type" : Describe(*type)));
}

SnapshotCache::Registration SnapshotCache::OpenStream(const std::string& node_id,
                                                      SnapshotCallback on_change) {
  absl::MutexLock lock(&mu_);
  Registration registration{.stream_id = next_stream_id_++,
                            .generation = generation_,
                            .snapshot = EffectiveLocked(node_id)};
  streams_.emplace(registration.stream_id, Stream{node_id, std::move(on_change)});
  ++status_[node_id].connected_streams;
  return registration;
}

void SnapshotCache::CloseStream(const std::string& node_id, uint64_t stream_id) {
  absl::MutexLock lock(&mu_);
  if (streams_.erase(stream_id) > 0) --status_[node_id].connected_streams;
}

TypeStatus& SnapshotCache::TypeLocked(const std::string& node_id, absl::string_view type_url) {
  return status_[node_id].types[std::string(type_url)];
}

void SnapshotCache::RecordResponse(const std::string& node_id, absl::string_view type_url,
                                   absl::string_view version, absl::string_view nonce) {
  absl::MutexLock lock(&mu_);
  TypeStatus& type = TypeLocked(node_id, type_url);
  type.sent_version = std::string(version);
  type.last_nonce = std::string(nonce);
}

void SnapshotCache::RecordAck(const std::string& node_id, absl::string_view type_url,
                              absl::string_view version) {
  absl::MutexLock lock(&mu_);
  TypeStatus& type = TypeLocked(node_id, type_url);
  type.acked_version = std::string(version);
  ++type.acks;
}

void SnapshotCache::RecordNack(const std::string& node_id, absl::string_view type_url,
                               absl::string_view version, absl::string_view error_detail) {
  absl::MutexLock lock(&mu_);
  TypeStatus& type = TypeLocked(node_id, type_url);
  type.nacked_version = std::string(version);
  type.error_detail = std::string(error_detail);
  ++type.nacks;
}

}  // namespace xds::server
