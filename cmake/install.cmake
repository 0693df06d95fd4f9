# `make install PREFIX=...` (cmake --install): fn0 and what `fn0 new` and
# `fn0 build` need, laid out relative to bin/fn0 so the prefix can be moved
# (src/cli/lang/layout.h finds it from the executable's own path):
#   bin/fn0                         templates, fn0's JS glue and the dashboard are inside it
#   libexec/fn0/wit-bindgen         the pinned tools scripts/setup.sh built
#   libexec/fn0/wasm-tools
#   libexec/fn0/componentize-py     runs lib/fn0/python/componentize_py (Python guests)
#   share/fn0/versions.env          the pinned versions; its presence marks the layout
#   share/fn0/wit/c, wit/js         the WIT guests build against (derived by the build)
#   share/fn0/adapters/             the WASI preview1 reactor adapter
#   share/fn0/js/                   esbuild + componentize-js: tools/js with its node_modules
#   share/fn0/go-wit-runtime/       the runtime of wit-bindgen's Go bindings
# Component `node` is the binary alone (all `fn0 serve` needs: the container
# image installs only it); `toolchains` is the rest. Parts setup.sh installs
# only for every language (`make setup`: componentize-py) are skipped when
# absent; `fn0 doctor` then says what is missing.

install(TARGETS fn0 RUNTIME DESTINATION bin COMPONENT node)

install(FILES ${PROJECT_SOURCE_DIR}/scripts/versions.env DESTINATION share/fn0 COMPONENT toolchains)
install(PROGRAMS ${FN0_TOOLS_BIN}/wit-bindgen ${FN0_TOOLS_BIN}/wasm-tools DESTINATION libexec/fn0
        COMPONENT toolchains)
install(DIRECTORY ${FN0_WIT_C}/ DESTINATION share/fn0/wit/c COMPONENT toolchains)
install(DIRECTORY ${FN0_WIT_JS}/ DESTINATION share/fn0/wit/js COMPONENT toolchains)
install(FILES ${FN0_PREVIEW1_REACTOR} DESTINATION share/fn0/adapters COMPONENT toolchains)

# The npm tools as setup.sh installed them from tools/js/package-lock.json
# (copied: an install needs no network). .bin/ holds relative symlinks,
# which stay links, so the copy moves with the prefix.
install(FILES ${PROJECT_SOURCE_DIR}/tools/js/package.json ${PROJECT_SOURCE_DIR}/tools/js/package-lock.json
              ${PROJECT_SOURCE_DIR}/tools/js/preopen.mjs
        DESTINATION share/fn0/js COMPONENT toolchains)
install(CODE "message(STATUS \"Installing: \${CMAKE_INSTALL_PREFIX}/share/fn0/js/node_modules (esbuild, componentize-js)\")"
        COMPONENT toolchains)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/js/node_modules DESTINATION share/fn0/js
        USE_SOURCE_PERMISSIONS MESSAGE_NEVER COMPONENT toolchains)

install(DIRECTORY ${FN0_CACHE}/tools/go-wit-runtime/${FN0_PIN_WIT_BINDGEN_GO_VERSION}/
        DESTINATION share/fn0/go-wit-runtime OPTIONAL COMPONENT toolchains)

# componentize-py: its package out of setup.sh's venv (found when installing:
# the venv's python3.X folder is whatever python3 made it), plus a launcher.
set(_fn0_cpy_venv ${FN0_CACHE}/tools/componentize-py/${FN0_PIN_COMPONENTIZE_PY_VERSION})
install(CODE "
  file(GLOB _cpy \"${_fn0_cpy_venv}/lib/python3*/site-packages/componentize_py\")
  if(_cpy)
    file(INSTALL \${_cpy} DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/fn0/python\"
         USE_SOURCE_PERMISSIONS PATTERN __pycache__ EXCLUDE)
    file(INSTALL \"${PROJECT_SOURCE_DIR}/packaging/libexec/componentize-py\"
         DESTINATION \"\${CMAKE_INSTALL_PREFIX}/libexec/fn0\" USE_SOURCE_PERMISSIONS)
  else()
    message(STATUS \"Skipping componentize-py (Python guests): not in ${_fn0_cpy_venv} (make setup installs it)\")
  endif()" COMPONENT toolchains)

# The service examples and their documentation (docs/install.md).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/fn0.service ${PROJECT_SOURCE_DIR}/packaging/systemd/fn0.sysusers
        DESTINATION share/fn0/examples/systemd COMPONENT toolchains)
install(FILES ${PROJECT_SOURCE_DIR}/docs/install.md DESTINATION share/doc/fn0 COMPONENT toolchains)
