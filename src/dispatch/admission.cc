#include "dispatch/admission.h"

#include <algorithm>

namespace fn0::dispatch {

Admission::Admission(uint32_t nodeLimit, uint32_t functionShare)
    : nodeLimit_(std::max<uint32_t>(nodeLimit, 1)),
      share_(std::clamp<uint32_t>(functionShare ? functionShare : nodeLimit_ / 2, 1, nodeLimit_)) {}

Admission::Ticket& Admission::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    slot_ = o.slot_;
    o.owner_ = nullptr;
  }
  return *this;
}

void Admission::Ticket::release() {
  if (!owner_) return;
  auto* owner = owner_;
  owner_ = nullptr;
  owner->release(slot_);
}

Admission::Ticket Admission::admit(const std::string& function, uint32_t functionLimit, Refusal& why) {
  const uint32_t limit = functionLimit ? std::min(functionLimit, share_) : share_;
  std::lock_guard lock(mu_);
  if (total_ >= nodeLimit_) {
    why = Refusal::Node;
    return {};
  }
  auto [it, inserted] = perFunction_.try_emplace(function, 0);
  if (it->second >= limit) {
    why = Refusal::Function;
    return {};
  }
  it->second++;
  total_++;
  why = Refusal::None;
  return Ticket(this, &*it);
}

void Admission::release(std::pair<const std::string, uint32_t>* slot) {
  std::lock_guard lock(mu_);
  total_--;
  if (--slot->second == 0) perFunction_.erase(perFunction_.find(slot->first));
}

uint32_t Admission::running() const {
  std::lock_guard lock(mu_);
  return total_;
}

uint32_t Admission::running(const std::string& function) const {
  std::lock_guard lock(mu_);
  auto it = perFunction_.find(function);
  return it == perFunction_.end() ? 0 : it->second;
}

}  // namespace fn0::dispatch
