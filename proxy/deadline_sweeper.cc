#include "proxy/deadline_sweeper.h"

#include <algorithm>

namespace proxy {

Deadline::~Deadline() {
  if (sweeper_ == nullptr) return;
  if (prev_ != nullptr) prev_->next_ = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  if (sweeper_->head_ == this) sweeper_->head_ = next_;
}

void Deadline::Register(DeadlineSweeper* sweeper) {
  sweeper_ = sweeper;
  next_ = sweeper->head_;
  if (next_ != nullptr) next_->prev_ = this;
  sweeper->head_ = this;
}

void Deadline::ArmAt(Clock::time_point when) {
  when_ = when;
  // While the sweeper ticks, sleeping_until_ is min() and this is never true.
  if (sweeper_ != nullptr && when < sweeper_->sleeping_until_) sweeper_->wake_();
}

void DeadlineSweeper::Sweep(Clock::time_point now) {
  for (Deadline* d = head_; d != nullptr; d = d->next_) {
    if (d->when_ <= now) {
      d->when_ = Clock::time_point::max();
      d->OnDeadline();
    }
  }
}

DeadlineSweeper::Clock::time_point DeadlineSweeper::Earliest() const {
  Clock::time_point earliest = Clock::time_point::max();
  for (const Deadline* d = head_; d != nullptr; d = d->next_)
    earliest = std::min(earliest, d->when_);
  return earliest;
}

}  // namespace proxy
