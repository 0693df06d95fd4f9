// Components on the C++ side: compiling uploaded bytes into a native
// artifact, and loaded, pre-linked components ready to be invoked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "common/result.h"
#include "runtime/engine.h"

namespace fn0::runtime {

// Native code compiled from a component, owned (adapter-allocated) bytes.
class Artifact {
 public:
  explicit Artifact(fn0_bytes_t b) : bytes_(b) {}
  Artifact(Artifact&& o) noexcept : bytes_(o.bytes_) { o.bytes_ = fn0_bytes_t{}; }
  Artifact& operator=(Artifact&&) = delete;
  Artifact(const Artifact&) = delete;
  ~Artifact() { fn0_bytes_delete(&bytes_); }
  std::span<const uint8_t> bytes() const { return {bytes_.data, bytes_.len}; }

 private:
  fn0_bytes_t bytes_;
};

// The checks before compiling (milliseconds): a component, under fn0's
// per-component caps (size, functions, code, core instances, memories,
// tables). The error names the count and the cap.
Result<void> check(std::span<const uint8_t> wasm);

// Which compiler made an artifact. Optimized: Cranelift, what every
// function runs on in the end. Baseline: Winch, several times faster to
// compile and slower to run, so that a big deploy answers before its
// optimized compile is done (ComponentCache); WASI 0.2 components only.
enum class Tier { Optimized, Baseline };

// Validates and compiles a component. The error names what is wrong (not
// wasm, a core module, missing export, unsatisfied import).
Result<Artifact> compile(const Engine& engine, std::span<const uint8_t> wasm, Tier tier = Tier::Optimized);

// A compiled, pre-linked component. Immutable; shared by every request.
class Component {
 public:
  // Loads an artifact written by fn0 (memory-mapped; nothing recompiled),
  // compiled by the compiler `tier` names.
  static Result<std::shared_ptr<const Component>> load(const Engine& engine, const std::filesystem::path& artifact,
                                                       Tier tier = Tier::Optimized);
  ~Component() { fn0_component_delete(handle_); }
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;

  size_t imageBytes() const { return fn0_component_image_size(handle_); }
  // Runs on the engine with concurrency support (a WASI 0.3 component);
  // every other one runs on the engine without it, which is faster.
  bool concurrent() const { return fn0_component_concurrent(handle_) != 0; }
  Tier tier() const { return tier_; }
  // The one-time work of a freshly loaded component, done before any
  // request runs (fn0_component_prefault): its artifact read and mapped,
  // its memory images built. Blocks on disk reads.
  Result<void> prefault() const;
  const fn0_component_t* raw() const { return handle_; }

 private:
  Component(fn0_component_t* h, Tier tier) : handle_(h), tier_(tier) {}
  fn0_component_t* handle_;
  Tier tier_;
};

}  // namespace fn0::runtime
