# Builds the Rust adapter crate (engine/) with cargo and exposes it as the
# imported static library fn0::engine. Cargo decides what is stale, so the
# step runs on every build and is a no-op when nothing changed.
find_program(CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
set(FN0_CARGO_TARGET_DIR "${FN0_CACHE}/cargo-target" CACHE PATH "cargo target dir for engine/")
set(FN0_ENGINE_LIB "${FN0_CARGO_TARGET_DIR}/release/libfn0_engine.a")

add_custom_target(fn0_engine_cargo
  COMMAND ${CMAKE_COMMAND} -E env CARGO_TARGET_DIR=${FN0_CARGO_TARGET_DIR}
          ${CARGO} build --release --locked --quiet
          --manifest-path ${PROJECT_SOURCE_DIR}/engine/Cargo.toml
  BYPRODUCTS ${FN0_ENGINE_LIB}
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/engine
  USES_TERMINAL
  COMMENT "cargo build (engine/)")

add_library(fn0_engine_rust STATIC IMPORTED GLOBAL)
set_target_properties(fn0_engine_rust PROPERTIES IMPORTED_LOCATION ${FN0_ENGINE_LIB})
add_dependencies(fn0_engine_rust fn0_engine_cargo)

add_library(fn0_engine INTERFACE)
target_include_directories(fn0_engine INTERFACE ${PROJECT_SOURCE_DIR}/engine/include)
# Native libraries a Rust staticlib needs on Linux (`--print native-static-libs`).
target_link_libraries(fn0_engine INTERFACE fn0_engine_rust Threads::Threads dl m rt util gcc_s)
add_library(fn0::engine ALIAS fn0_engine)
