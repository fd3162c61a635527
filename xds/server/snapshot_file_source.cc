#include "xds/server/snapshot_file_source.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"
#include "xds/server/snapshot_file.h"

namespace xds::server {

absl::StatusOr<std::unique_ptr<SnapshotFileSource>> SnapshotFileSource::Start(
    const std::string& path, SnapshotCache* cache, FileWatcher::Options watch) {
  std::unique_ptr<SnapshotFileSource> source(new SnapshotFileSource(path, cache));
  // Watching starts before the first load, so that no edit can fall between the two.
  absl::StatusOr<std::unique_ptr<FileWatcher>> watcher =
      FileWatcher::Start(path, [s = source.get()] { s->Reload().IgnoreError(); }, watch);
  if (!watcher.ok()) return watcher.status();
  source->watcher_ = *std::move(watcher);
  if (absl::Status loaded = source->Reload(); !loaded.ok()) return loaded;
  return source;
}

SnapshotFileSource::~SnapshotFileSource() { watcher_.reset(); }

absl::Status SnapshotFileSource::Reload() {
  absl::StatusOr<SnapshotFile> file = LoadSnapshotFile(path_);
  absl::MutexLock lock(&mu_);
  ++loads_;
  last_status_ = file.status();
  if (!file.ok()) {
    for (absl::string_view line : absl::StrSplit(file.status().message(), '\n')) {
      spdlog::error("{}: {}", path_, std::string(line));
    }
    if (!version_.empty()) {
      spdlog::error("{}: invalid; still serving version \"{}\"", path_, version_);
    }
    return last_status_;
  }
  for (const std::string& warning : file->warnings) spdlog::warn("{}: {}", path_, warning);
  if (file->snapshot.version == version_ && file->nodes == nodes_) return last_status_;
  for (const std::string& node : nodes_) {
    if (std::find(file->nodes.begin(), file->nodes.end(), node) == file->nodes.end()) {
      cache_->ClearSnapshot(node);
    }
  }
  version_ = file->snapshot.version;
  nodes_ = file->nodes;
  auto snapshot = std::make_shared<const Snapshot>(std::move(file->snapshot));
  for (const std::string& node : nodes_) cache_->SetSnapshot(node, snapshot);
  spdlog::info("{}: serving version \"{}\" to {}", path_, version_, absl::StrJoin(nodes_, ", "));
  return last_status_;
}

uint64_t SnapshotFileSource::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

absl::Status SnapshotFileSource::last_status() const {
  absl::MutexLock lock(&mu_);
  return last_status_;
}

bool SnapshotFileSource::WaitForLoads(uint64_t count, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return loads_ >= count; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

}  // namespace xds::server
