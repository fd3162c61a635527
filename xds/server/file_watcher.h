#pragma once

// FileWatcher: calls a function, on its own thread, after a file changed. It watches the file's
// directory with inotify, because editors and config tools save by writing a new file and
// renaming it over the old one, which a watch on the file itself would miss; and it polls the
// file's identity (inode, size, mtime) as a fallback for when inotify is unavailable or misses
// events (network file systems, a directory created later). Changes are debounced: the call
// comes once the file has been quiet for `debounce`, so a save in several writes loads once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace xds::server {

class FileWatcher {
 public:
  struct Options {
    absl::Duration debounce = absl::Milliseconds(50);
    absl::Duration poll_interval = absl::Seconds(1);
    bool use_inotify = true;  // false: polling only (tests of the fallback)
  };

  static absl::StatusOr<std::unique_ptr<FileWatcher>> Start(std::string path,
                                                            std::function<void()> on_change,
                                                            Options options);
  // Stops and joins the thread: `on_change` is not running once this returns.
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

 private:
  FileWatcher(std::string path, std::function<void()> on_change, Options options)
      : path_(std::move(path)), on_change_(std::move(on_change)), options_(options) {}
  // What tells one version of the file from another without reading it.
  struct FileId {
    bool exists = false;
    uint64_t dev = 0, ino = 0;
    int64_t size = 0, mtime_sec = 0, mtime_nsec = 0;
    bool operator==(const FileId&) const = default;
  };
  static FileId Identify(const std::string& path);
  void Run(FileId last);

  const std::string path_;
  const std::function<void()> on_change_;
  const Options options_;
  int inotify_fd_ = -1;  // -1: polling only
  int wake_fd_ = -1;     // eventfd written by the destructor
  std::thread thread_;
};

}  // namespace xds::server
