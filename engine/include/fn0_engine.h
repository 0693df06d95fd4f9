/* fn0_engine.h — the C boundary between fn0's C++ node and its Rust adapter
 * over wasmtime (engine/src). Style follows wasmtime's c-api:
 *  - opaque `_t` types, created by `_new` and freed by `_delete`;
 *  - functions that can fail return `fn0_engine_error_t*`: NULL means success,
 *    otherwise the caller owns the error and frees it with
 *    `fn0_engine_error_delete`;
 *  - memory is freed on the side that allocated it;
 *  - a `const` pointer may be shared across threads.
 * No panic crosses this boundary: the adapter turns them into errors. */
#ifndef FN0_ENGINE_H
#define FN0_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors (engine/src/error.rs) ------------------------------------- */

typedef struct fn0_engine_error_t fn0_engine_error_t;

/* Borrows the UTF-8 message of `err` (not NUL-terminated); valid until the
 * error is deleted. */
void fn0_engine_error_message(const fn0_engine_error_t* err, const char** data, size_t* len);
void fn0_engine_error_delete(fn0_engine_error_t* err);

/* ---- versions (engine/src/version.rs) --------------------------------- */

/* Static NUL-terminated strings; never freed. */
const char* fn0_engine_wasmtime_version(void);
const char* fn0_engine_adapter_version(void);

/* ---- engine (engine/src/engine.rs) ------------------------------------ */

typedef struct fn0_engine_t fn0_engine_t;

/* Plain settings; a zero field means "use the default". */
typedef struct fn0_engine_config_t {
  uint64_t max_memory_bytes;    /* per instance; default 128 MiB */
  uint32_t pooled_instances;    /* pooling allocator slots; default 1000 */
  uint32_t on_demand_allocator; /* 1 = no pooling allocator */
} fn0_engine_config_t;

/* Creates the process's engine. `config` may be NULL. On success stores the
 * new engine (owned by the caller, freed by fn0_engine_delete) in `*out`. */
fn0_engine_error_t* fn0_engine_new(const fn0_engine_config_t* config, fn0_engine_t** out);
void fn0_engine_delete(fn0_engine_t* engine);

/* A fingerprint of what makes a compiled artifact loadable by this engine
 * (wasmtime version, target, settings): part of the artifact cache key. */
uint64_t fn0_engine_fingerprint(const fn0_engine_t* engine);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FN0_ENGINE_H */
