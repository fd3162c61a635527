#pragma once

// SnapshotCache: what the xDS server serves, per node, and what each node did with it. Snapshots
// are keyed by node.id (go-control-plane's IDHash); a snapshot set for kAnyNode is served to every
// node that has none of its own. Setting a snapshot notifies the ADS streams of the affected
// nodes, which push whatever their clients subscribed to.
//
// The cache also keeps each node's stream status: how many streams are open, and per type URL
// the last nonce sent, the last version ACKed and the last NACK (version and error_detail).
// Tests and the control plane wait on it ("has node X ACKed version V of type T?") instead of
// parsing logs. All methods are thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "xds/server/snapshot.h"

namespace xds::server {

// The node id whose snapshot goes to every node without a snapshot of its own.
inline constexpr absl::string_view kAnyNode = "*";

struct TypeStatus {
  std::string last_nonce;      // of the last response sent (to any stream of the node)
  std::string sent_version;    // version of that response
  std::string acked_version;   // last version ACKed
  std::string nacked_version;  // version of the last response NACKed ("" if none was)
  std::string error_detail;    // error_detail.message of that NACK
  uint64_t acks = 0;
  uint64_t nacks = 0;
};

struct NodeStatus {
  int connected_streams = 0;
  std::map<std::string, TypeStatus> types;  // by type URL
};

class SnapshotCache {
 public:
  SnapshotCache() = default;
  SnapshotCache(const SnapshotCache&) = delete;
  SnapshotCache& operator=(const SnapshotCache&) = delete;

  // Replaces the snapshot of `node_id` (kAnyNode: the default for all nodes) and notifies the
  // streams it reaches. Streams push a type only when its version differs from what they sent,
  // so a changed snapshot needs a new version.
  void SetSnapshot(const std::string& node_id, Snapshot snapshot);
  // The same for a snapshot shared between nodes.
  void SetSnapshot(const std::string& node_id, std::shared_ptr<const Snapshot> snapshot);
  // Forgets the snapshot of `node_id`; its streams keep what they have and wait for the next one.
  void ClearSnapshot(const std::string& node_id);
  // The snapshot served to `node_id` (its own, else kAnyNode's), or nullptr.
  std::shared_ptr<const Snapshot> GetSnapshot(const std::string& node_id) const;

  // ---- status ----
  // Every node that has a snapshot or has connected, with its status.
  std::map<std::string, NodeStatus> GetStatus() const;
  NodeStatus GetNodeStatus(const std::string& node_id) const;
  // Blocks until `predicate(status of node_id)` holds (true) or `timeout` passes (false).
  bool WaitForNode(const std::string& node_id,
                   const std::function<bool(const NodeStatus&)>& predicate,
                   absl::Duration timeout) const;
  // Waits until node_id ACKed `version` of `type_url` on some stream; DeadlineExceeded (with
  // what the node did instead) when it does not within `timeout`.
  absl::Status WaitForAck(const std::string& node_id, absl::string_view type_url,
                          absl::string_view version, absl::Duration timeout) const;
  // Waits until node_id NACKed `version` of `type_url`; returns the NACK's error_detail.
  absl::StatusOr<std::string> WaitForNack(const std::string& node_id, absl::string_view type_url,
                                          absl::string_view version, absl::Duration timeout) const;

  // ---- for the ADS streams ----
  // `on_change` gets (generation, snapshot or nullptr) after a change that reaches the stream. It
  // runs on the thread that changed the cache, without the cache's lock, possibly concurrently
  // with other notifications and even after CloseStream returned; a stream keeps the snapshot
  // with the highest generation.
  using SnapshotCallback = std::function<void(uint64_t, std::shared_ptr<const Snapshot>)>;
  struct Registration {
    uint64_t stream_id = 0;
    uint64_t generation = 0;
    std::shared_ptr<const Snapshot> snapshot;  // the current one, or nullptr
  };
  Registration OpenStream(const std::string& node_id, SnapshotCallback on_change);
  void CloseStream(const std::string& node_id, uint64_t stream_id);
  void RecordResponse(const std::string& node_id, absl::string_view type_url,
                      absl::string_view version, absl::string_view nonce);
  void RecordAck(const std::string& node_id, absl::string_view type_url, absl::string_view version);
  void RecordNack(const std::string& node_id, absl::string_view type_url,
                  absl::string_view version, absl::string_view error_detail);

 private:
  struct Stream {
    std::string node_id;
    SnapshotCallback on_change;
  };
  void Change(const std::string& node_id, std::shared_ptr<const Snapshot> snapshot);
  std::shared_ptr<const Snapshot> EffectiveLocked(const std::string& node_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  TypeStatus& TypeLocked(const std::string& node_id, absl::string_view type_url)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, NodeStatus> status_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Stream> streams_ ABSL_GUARDED_BY(mu_);
  uint64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace xds::server
