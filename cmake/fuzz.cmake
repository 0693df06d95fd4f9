# The fuzz targets (fuzz/) are a project of their own built with clang and
# libFuzzer into <build>/fuzz, as part of the default build. ctest runs each
# for FN0_FUZZ_SECONDS on the corpus kept in fuzz/corpus (new inputs go to a
# temporary directory); `make fuzz` runs them longer and keeps what they find.
include(ExternalProject)
find_program(FN0_CLANGXX NAMES clang++-${FN0_PIN_CLANG_VERSION} clang++-16 clang++ REQUIRED)
set(FN0_FUZZ_SECONDS 20 CACHE STRING "seconds each fuzz target runs in ctest")
set(FN0_FUZZ_DIR ${PROJECT_BINARY_DIR}/fuzz)

ExternalProject_Add(fuzzers
  SOURCE_DIR ${PROJECT_SOURCE_DIR}/fuzz
  BINARY_DIR ${FN0_FUZZ_DIR}
  CMAKE_ARGS -DCMAKE_CXX_COMPILER=${FN0_CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo
             -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}
  CMAKE_GENERATOR Ninja
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  USES_TERMINAL_BUILD ON)

foreach(target request_head router settings)
  add_test(NAME fuzz_${target}
    COMMAND ${PROJECT_SOURCE_DIR}/fuzz/run.sh ${FN0_FUZZ_DIR}/fuzz_${target}
            ${PROJECT_SOURCE_DIR}/fuzz/corpus/${target} ${FN0_FUZZ_SECONDS})
  set_tests_properties(fuzz_${target} PROPERTIES TIMEOUT 300)
endforeach()
