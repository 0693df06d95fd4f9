#include "runtime/component.h"

namespace fn0::runtime {

Result<void> check(std::span<const uint8_t> wasm) {
  if (auto* err = fn0_component_check(wasm.data(), wasm.size())) return takeError(err);
  return {};
}

Result<Artifact> compile(const Engine& engine, std::span<const uint8_t> wasm, Tier tier) {
  fn0_bytes_t out{};
  if (auto* err = fn0_component_compile(engine.raw(), wasm.data(), wasm.size(), tier == Tier::Baseline, &out))
    return takeError(err);
  return Artifact(out);
}

Result<std::shared_ptr<const Component>> Component::load(const Engine& engine,
                                                         const std::filesystem::path& artifact, Tier tier) {
  const std::string path = artifact.string();
  fn0_component_t* handle = nullptr;
  if (auto* err = fn0_component_load(engine.raw(), path.data(), path.size(), tier == Tier::Baseline, &handle))
    return takeError(err);
  return std::shared_ptr<const Component>(new Component(handle, tier));
}

Result<void> Component::prefault() const {
  if (auto* err = fn0_component_prefault(handle_)) return takeError(err);
  return {};
}

}  // namespace fn0::runtime
