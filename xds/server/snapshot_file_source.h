#pragma once

// SnapshotFileSource: serves a snapshot file (snapshot_file.h) through a SnapshotCache and keeps
// serving it as the file is edited. Each change of the file reloads it: a valid file replaces
// the snapshot of every node it lists (and clears nodes it no longer lists); an invalid one is
// logged with every error and the previous snapshot keeps being served. Logs through spdlog.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "xds/server/file_watcher.h"
#include "xds/server/snapshot_cache.h"

namespace xds::server {

class SnapshotFileSource {
 public:
  // Loads `path` into `cache` (which must outlive the source), then watches it. Fails if the
  // first load fails: there would be nothing to serve.
  static absl::StatusOr<std::unique_ptr<SnapshotFileSource>> Start(
      const std::string& path, SnapshotCache* cache, FileWatcher::Options watch = {});
  ~SnapshotFileSource();  // stops watching first

  // Loads the file now; what a change of the file triggers.
  absl::Status Reload();

  // For tests: how many loads finished (the first one included), the result of the last one,
  // and a bounded wait for the count to reach `count`.
  uint64_t loads() const;
  absl::Status last_status() const;
  bool WaitForLoads(uint64_t count, absl::Duration timeout) const;

 private:
  SnapshotFileSource(std::string path, SnapshotCache* cache)
      : path_(std::move(path)), cache_(cache) {}

  const std::string path_;
  SnapshotCache* const cache_;
  std::unique_ptr<FileWatcher> watcher_;

  mutable absl::Mutex mu_;
  uint64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  std::string version_ ABSL_GUARDED_BY(mu_);          // being served
  std::vector<std::string> nodes_ ABSL_GUARDED_BY(mu_);  // served to
};

}  // namespace xds::server
