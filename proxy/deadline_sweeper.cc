#include "proxy/deadline_sweeper.h"

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

void Deadline::ArmAt(Clock::time_point when) { when_ = when; }

void DeadlineSweeper::Sweep(Deadline::Clock::time_point now) {
  for (Deadline* d = head_; d != nullptr; d = d->next_) {
    if (d->when_ <= now) {
      d->when_ = Deadline::Clock::time_point::max();
      d->OnDeadline();
    }
  }
}

}  // namespace proxy
