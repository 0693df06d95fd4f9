# How a guest source becomes a wasi:http component. Two recipes:
#   fn0_c_component(NAME SRC...)   clang (wasm32-wasi) + wit-bindgen C bindings
#                                  + wasm-tools component new with the preview1
#                                  reactor adapter
#   fn0_js_component(NAME ENTRY [DEPS...])
#                                  componentize-js (TypeScript bundled by
#                                  esbuild first)
#   fn0_project_component(NAME DIR) an fn0 project (any language) built by
#                                  `fn0 build`
# Every component is checked with `wasm-tools validate` as it is built.
include_guard()

# The pinned tools scripts/setup.sh installed, never whatever else is on PATH.
find_program(WASM_TOOLS wasm-tools PATHS ${FN0_TOOLS_BIN} NO_DEFAULT_PATH REQUIRED)
find_program(WIT_BINDGEN wit-bindgen PATHS ${FN0_TOOLS_BIN} NO_DEFAULT_PATH REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(WASM_CLANG clang-${FN0_PIN_CLANG_VERSION} REQUIRED)

# Global (cache) so the functions below work from any directory, e.g. tests/guests.
set(_ex_out ${PROJECT_BINARY_DIR}/examples CACHE INTERNAL "")
set(_ex_src ${CMAKE_CURRENT_LIST_DIR} CACHE INTERNAL "")
set(_wit_deps_tool ${_ex_src}/tools/wit_deps.py)
set(_engine_lock ${PROJECT_SOURCE_DIR}/engine/Cargo.lock)
set(FN0_PREVIEW1_REACTOR
    ${FN0_CACHE}/preview1-adapter/${FN0_PIN_WASMTIME_VERSION}/wasi_snapshot_preview1.reactor.wasm
    CACHE INTERNAL "")

# WIT folders: our world file + the WASI packages of the pinned host crate +
# wasi:keyvalue (wit/keyvalue, copied as it is: no relabelling).
file(GLOB _kv_wit ${PROJECT_SOURCE_DIR}/wit/keyvalue/*.wit)
function(_fn0_wit_dir out_var kind world_file)
  set(dir ${_ex_out}/wit-${kind})
  set(stamp ${dir}/deps/http.wit)
  # The C folder (also Python's and Go's) gets fn0:platform/handler, the
  # world with the key-value interfaces (wit/fn0); JS's packages, relabelled
  # 0.2.10, could not satisfy it.
  set(platform "")
  if(kind STREQUAL "c")
    set(platform COMMAND ${CMAKE_COMMAND} -E copy_directory ${PROJECT_SOURCE_DIR}/wit/fn0 ${dir}/deps/fn0)
  endif()
  add_custom_command(OUTPUT ${stamp} ${dir}/world.wit
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${dir}
    COMMAND ${Python3_EXECUTABLE} ${_wit_deps_tool} --manifest ${PROJECT_SOURCE_DIR}/engine/Cargo.toml
            --out ${dir} ${ARGN}
    COMMAND ${CMAKE_COMMAND} -E copy_directory ${PROJECT_SOURCE_DIR}/wit/keyvalue ${dir}/deps/keyvalue
    ${platform}
    COMMAND ${CMAKE_COMMAND} -E copy ${world_file} ${dir}/world.wit
    DEPENDS ${_wit_deps_tool} ${_engine_lock} ${world_file} ${_kv_wit} ${PROJECT_SOURCE_DIR}/wit/fn0/world.wit
    COMMENT "WIT for ${kind} guests")
  set(${out_var} ${dir} CACHE INTERNAL "")
endfunction()

_fn0_wit_dir(FN0_WIT_C c ${_ex_src}/wit/c.wit)
_fn0_wit_dir(FN0_WIT_JS js ${_ex_src}/wit/js.wit --version 0.2.10 --enable-unstable network-error-code)

# C bindings for the world, generated once and shared by every C example.
set(_bind ${_ex_out}/bindings-c CACHE INTERNAL "")
set(_bind_outputs ${_bind}/c_handler.c ${_bind}/c_handler.h ${_bind}/c_handler_component_type.o CACHE INTERNAL "")
add_custom_command(OUTPUT ${_bind_outputs}
  COMMAND ${WIT_BINDGEN} c --world c-handler --out-dir ${_bind} ${FN0_WIT_C}
  DEPENDS ${FN0_WIT_C}/deps/http.wit ${FN0_WIT_C}/world.wit
  COMMENT "wit-bindgen c (c-handler world)")

# Callers may set FN0_COMPONENT_OUT (output folder, default build/examples)
# and FN0_COMPONENT_GROUP (the global property collecting outputs, default
# FN0_EXAMPLE_OUTPUTS) before calling these.
macro(_fn0_component_dest)
  if(NOT FN0_COMPONENT_OUT)
    set(FN0_COMPONENT_OUT ${_ex_out})
  endif()
  if(NOT FN0_COMPONENT_GROUP)
    set(FN0_COMPONENT_GROUP FN0_EXAMPLE_OUTPUTS)
  endif()
endmacro()

function(fn0_c_component name)
  _fn0_component_dest()
  set(core ${FN0_COMPONENT_OUT}/${name}.core.wasm)
  set(out ${FN0_COMPONENT_OUT}/${name}.wasm)
  add_custom_command(OUTPUT ${out}
    COMMAND ${WASM_CLANG} --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror
            -I${_bind} -I${_ex_src}/c-lib -o ${core} ${ARGN} ${_ex_src}/c-lib/http.c
            ${_bind}/c_handler.c ${_bind}/c_handler_component_type.o
    COMMAND ${WASM_TOOLS} component new ${core}
            --adapt wasi_snapshot_preview1=${FN0_PREVIEW1_REACTOR} -o ${out}
    COMMAND ${WASM_TOOLS} validate ${out}
    DEPENDS ${ARGN} ${_bind_outputs} ${_ex_src}/c-lib/http.c ${_ex_src}/c-lib/http.h
    COMMENT "C component ${name}")
  set_property(GLOBAL APPEND PROPERTY ${FN0_COMPONENT_GROUP} ${out})
endfunction()

function(fn0_js_component name entry)
  _fn0_component_dest()
  set(out ${FN0_COMPONENT_OUT}/${name}.wasm)
  add_custom_command(OUTPUT ${out}
    COMMAND ${_ex_src}/tools/build-js.sh ${entry} ${FN0_WIT_JS} js-handler ${out}
    COMMAND ${WASM_TOOLS} validate ${out}
    DEPENDS ${entry} ${ARGN} ${_ex_src}/tools/build-js.sh ${FN0_WIT_JS}/deps/http.wit
            ${FN0_WIT_JS}/world.wit ${PROJECT_SOURCE_DIR}/tools/js/package-lock.json
    JOB_POOL fn0_js
    COMMENT "JS component ${name} (componentize-js, ~40 s)")
  set_property(GLOBAL APPEND PROPERTY ${FN0_COMPONENT_GROUP} ${out})
endfunction()

# An fn0 project (a folder with fn0.toml named NAME) built by `fn0 build`,
# exactly as its user would build it. The folder is copied under the build
# directory first, so whatever the build writes (node_modules, a cargo target
# dir, generated bindings) stays out of the source tree; a project with a
# package.json gets `npm install` there.
function(fn0_project_component name dir)
  # WIT DIR: a WIT folder of the repository (e.g. wit/keyvalue) copied to
  # the project's wit/, for guests that make their own bindings.
  cmake_parse_arguments(P "" "WIT" "" ${ARGN})
  _fn0_component_dest()
  set(copy ${FN0_COMPONENT_OUT}/${name}.project)
  set(wit "")
  set(wit_files "")
  if(P_WIT)
    file(GLOB wit_files ${PROJECT_SOURCE_DIR}/${P_WIT}/*.wit)
    set(wit COMMAND ${CMAKE_COMMAND} -E copy_directory ${PROJECT_SOURCE_DIR}/${P_WIT} ${copy}/wit)
  endif()
  set(out ${FN0_COMPONENT_OUT}/${name}.wasm)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*)
  list(FILTER srcs EXCLUDE REGEX "/(build|target|node_modules|__pycache__)/")
  set(npm "")
  if(EXISTS ${dir}/package.json)
    set(npm COMMAND npm install --no-audit --no-fund --loglevel=error --prefix ${copy} --cache ${FN0_CACHE}/npm)
  endif()
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E copy_directory ${dir} ${copy}
    ${wit}
    ${npm}
    COMMAND ${CMAKE_COMMAND} -E env FN0_RUST_TARGET_DIR=${FN0_CACHE}/rust-target $<TARGET_FILE:fn0> build --dir ${copy}
    COMMAND ${CMAKE_COMMAND} -E copy ${copy}/build/${name}.wasm ${out}
    COMMAND ${WASM_TOOLS} validate ${out}
    DEPENDS ${srcs} ${wit_files} fn0
    JOB_POOL fn0_js
    COMMENT "fn0 build ${name}")
  set_property(GLOBAL APPEND PROPERTY ${FN0_COMPONENT_GROUP} ${out})
endfunction()

# A component written in the WebAssembly text format (test guests).
function(fn0_wat_component name wat)
  _fn0_component_dest()
  set(out ${FN0_COMPONENT_OUT}/${name}.wasm)
  add_custom_command(OUTPUT ${out}
    COMMAND ${WASM_TOOLS} parse ${wat} -o ${out}
    DEPENDS ${wat}
    COMMENT "WAT component ${name}")
  set_property(GLOBAL APPEND PROPERTY ${FN0_COMPONENT_GROUP} ${out})
endfunction()

# componentize-js peaks near 800 MB; two at once is what the 2-core machines
# take without slowing the C++ build to a crawl.
set_property(GLOBAL APPEND PROPERTY JOB_POOLS fn0_js=2)
