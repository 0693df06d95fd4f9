// Admission control: how many requests may hold an instance at once, on the
// whole node and per function. The per-function share keeps one function (a
// flood of slow requests, slow request bodies, a guest that sleeps) from
// taking every slot: beyond its share that function alone is answered 503
// overloaded, the others keep their room. A slot is held by a Ticket, an
// RAII handle, so no path (an early return, an exception, a cancelled
// coroutine) can leak one.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace fn0::dispatch {

class Admission {
 public:
  // `functionShare`: the most one function may hold; 0 = half the node's
  // limit (at least 1).
  Admission(uint32_t nodeLimit, uint32_t functionShare);
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  enum class Refusal { None, Node, Function };

  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& o) noexcept : owner_(o.owner_), slot_(o.slot_) { o.owner_ = nullptr; }
    Ticket& operator=(Ticket&& o) noexcept;
    ~Ticket() { release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    // Gives the slot back now (idempotent; the destructor does it otherwise).
    void release();

   private:
    friend class Admission;
    Ticket(Admission* owner, std::pair<const std::string, uint32_t>* slot) : owner_(owner), slot_(slot) {}
    Admission* owner_ = nullptr;
    std::pair<const std::string, uint32_t>* slot_ = nullptr;
  };

  // A held slot for `function`, or an empty Ticket and why not.
  // `functionLimit` (optional, from its settings) can only tighten the share.
  Ticket admit(const std::string& function, uint32_t functionLimit, Refusal& why);

  uint32_t nodeLimit() const { return nodeLimit_; }
  uint32_t functionShare() const { return share_; }
  uint32_t running() const;
  uint32_t running(const std::string& function) const;

 private:
  void release(std::pair<const std::string, uint32_t>* slot);

  const uint32_t nodeLimit_, share_;
  mutable std::mutex mu_;
  uint32_t total_ = 0;
  // Functions with at least one request admitted; an entry goes when its
  // count reaches 0, so this stays as small as what runs now. (Element
  // pointers stay valid across rehashing.)
  std::unordered_map<std::string, uint32_t> perFunction_;
};

}  // namespace fn0::dispatch
