#include "xds/server/file_watcher.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace xds::server {
namespace {

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

FileWatcher::FileId FileWatcher::Identify(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

absl::StatusOr<std::unique_ptr<FileWatcher>> FileWatcher::Start(std::string path,
                                                                std::function<void()> on_change,
                                                                Options options) {
  std::unique_ptr<FileWatcher> watcher(
      new FileWatcher(std::move(path), std::move(on_change), options));
  watcher->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (watcher->wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  // Without inotify (or a watch on the directory) polling alone still sees every change.
  watcher->inotify_fd_ = options.use_inotify ? ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK) : -1;
  if (watcher->inotify_fd_ >= 0) {
    const std::string dir = SplitPath(watcher->path_).first;
    if (::inotify_add_watch(watcher->inotify_fd_, dir.c_str(),
                            IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                IN_MOVED_FROM | IN_ATTRIB) < 0) {
      ::close(watcher->inotify_fd_);
      watcher->inotify_fd_ = -1;
    }
  }
  // Taken before returning: a change right after Start() must count as a change.
  watcher->thread_ =
      std::thread([w = watcher.get(), initial = Identify(watcher->path_)] { w->Run(initial); });
  return watcher;
}

FileWatcher::~FileWatcher() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
    (void)ignored;
    thread_.join();
  }
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void FileWatcher::Run(FileId last) {
  const std::string name = SplitPath(path_).second;
  std::optional<absl::Time> due;  // when to call on_change_, once the file is quiet
  absl::Time next_poll = absl::Now() + options_.poll_interval;
  alignas(struct inotify_event) char buffer[4096];
  for (;;) {
    const absl::Time now = absl::Now();
    const absl::Time wake = due.has_value() ? std::min(*due, next_poll) : next_poll;
    const int timeout_ms =
        static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(wake - now) + 1));
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int ready = ::poll(fds, inotify_fd_ >= 0 ? 2 : 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    if (inotify_fd_ >= 0 && (fds[1].revents & POLLIN) != 0) {
      ssize_t n;
      while ((n = ::read(inotify_fd_, buffer, sizeof(buffer))) > 0) {
        for (char* p = buffer; p < buffer + n;) {
          auto* event = reinterpret_cast<struct inotify_event*>(p);
          // IN_Q_OVERFLOW: events were lost, so the file may have changed.
          if ((event->mask & IN_Q_OVERFLOW) != 0 ||
              (event->len > 0 && name == event->name)) {
            due = absl::Now() + options_.debounce;
          }
          p += sizeof(struct inotify_event) + event->len;
        }
      }
    }
    if (absl::Now() >= next_poll) {
      next_poll = absl::Now() + options_.poll_interval;
      if (!due.has_value() && !(Identify(path_) == last)) due = absl::Now() + options_.debounce;
    }
    if (due.has_value() && absl::Now() >= *due) {
      due.reset();
      last = Identify(path_);
      on_change_();
    }
  }
}

}  // namespace xds::server
