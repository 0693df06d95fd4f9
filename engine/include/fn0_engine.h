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
  uint64_t max_memory_bytes;    /* per instance, the node maximum; default 128 MiB */
  uint32_t pooled_instances;    /* pooling allocator slots; default 1000 */
  uint32_t on_demand_allocator; /* 1 = no pooling allocator */
  uint32_t worker_threads;      /* threads guests run on; default: CPUs */
  uint32_t compile_only;        /* 1 = only compiles: no guest threads, no ticker, a pool of one */
  /* Incremental compilation cache (engine/src/compile_cache.rs): a directory
   * (UTF-8, not NUL-terminated) shared by every compile worker of a node;
   * length 0 = no cache. Its budget on disk in bytes; default 1 GiB. */
  const char* compile_cache_dir;
  size_t compile_cache_dir_len;
  uint64_t compile_cache_bytes;
} fn0_engine_config_t;

/* Creates the process's engine: wasmtime's engine, the linker components are
 * pre-linked against, the runtime guests run on and the epoch ticker.
 * `config` may be NULL. On success stores the new engine (owned by the
 * caller, freed by fn0_engine_delete after every component and request made
 * from it) in `*out`. */
fn0_engine_error_t* fn0_engine_new(const fn0_engine_config_t* config, fn0_engine_t** out);

/* Functions taken from the incremental compilation cache (`hits`) and
 * compiled because they were missing (`misses`) by this engine so far; both 0
 * without a cache. */
void fn0_engine_compile_cache_counts(const fn0_engine_t* engine, uint64_t* hits, uint64_t* misses);
void fn0_engine_delete(fn0_engine_t* engine);

/* Where the node listens (`host`: an address or a name, UTF-8). A guest's
 * outbound request to that listener is refused unless an allow-list entry
 * names exactly its port (an entry for all ports does not open it). */
fn0_engine_error_t* fn0_engine_set_listener(const fn0_engine_t* engine, const uint8_t* host, size_t host_len,
                                            uint16_t port);

/* A fingerprint of what makes a compiled artifact loadable by this engine
 * (wasmtime version, target, settings): part of the artifact cache key. */
uint64_t fn0_engine_fingerprint(const fn0_engine_t* engine);

/* ---- bytes (engine/src/bytes.rs) ------------------------------------- */

/* Bytes owned by the adapter; read data[0..len], free with fn0_bytes_delete
 * (which frees the contents, not the struct). Empty: data == NULL. */
typedef struct fn0_bytes_t {
  uint8_t* data;
  size_t len;
  size_t cap_; /* private */
} fn0_bytes_t;

void fn0_bytes_delete(fn0_bytes_t* bytes);

/* ---- components (engine/src/component.rs) ----------------------------- */

/* A compiled, pre-linked component. Immutable: a const pointer may be used
 * from any thread. */
typedef struct fn0_component_t fn0_component_t;

/* The checks before compiling, in milliseconds: `wasm` is a component and
 * stays under fn0's per-component caps (size, functions, code bytes, core
 * instances, memories, tables). The error names the count and the cap.
 * fn0_component_compile makes the same checks first. */
fn0_engine_error_t* fn0_component_check(const uint8_t* wasm, size_t len);

/* Validates and compiles `wasm` (a component exporting
 * wasi:http/incoming-handler@0.2.x or wasi:http/handler@0.3.x whose imports
 * fn0 provides) and fills `*artifact` with the native artifact to store on
 * disk. A component that uses the async component model is compiled for
 * the engine's second, concurrent wasmtime engine (engine.rs). Errors name
 * the problem: not WebAssembly, a core module (with how to adapt it), a
 * missing export, an unsatisfied import. `baseline` 1: compiled by the
 * baseline compiler (Winch), several times faster to compile and slower to
 * run, for WASI 0.2 components only (an error otherwise); load the artifact
 * with `baseline` 1 too. */
fn0_engine_error_t* fn0_component_compile(const fn0_engine_t* engine, const uint8_t* wasm,
                                          size_t len, int baseline, fn0_bytes_t* artifact);

/* Loads an artifact file written from fn0_component_compile (memory-mapped,
 * nothing recompiled) and pre-links it. `path` is UTF-8, `path_len` bytes.
 * Artifacts are trusted native code: only load files fn0 wrote. `baseline`:
 * as it was compiled. */
fn0_engine_error_t* fn0_component_load(const fn0_engine_t* engine, const char* path,
                                       size_t path_len, int baseline, fn0_component_t** out);

/* Does the one-time work the first request after a load would otherwise pay
 * for out of its CPU budget: builds the copy-on-write memory images and
 * brings the whole memory-mapped artifact into memory (reads it from disk if
 * needed, maps every page). Costs the image size in page cache (clean,
 * reclaimable). Blocks on disk reads: call it off the I/O threads. */
fn0_engine_error_t* fn0_component_prefault(const fn0_component_t* component);

/* 1 if the component runs on the engine with concurrency support (it uses
 * the async component model, e.g. WASI 0.3), 0 if on the one without. */
int fn0_component_concurrent(const fn0_component_t* component);

/* Bytes of code and data the component maps (for cache accounting). */
size_t fn0_component_image_size(const fn0_component_t* component);
void fn0_component_delete(fn0_component_t* component);

/* ---- invocations (engine/src/invoke.rs) ------------------------------- */

/* A borrowed string or byte string: `len` bytes at `data`. */
typedef struct fn0_str_t {
  const uint8_t* data;
  size_t len;
} fn0_str_t;

typedef struct fn0_header_t {
  fn0_str_t name;
  fn0_str_t value;
} fn0_header_t;

typedef struct fn0_request_head_t {
  fn0_str_t method;
  fn0_str_t scheme;          /* "http" or "https" */
  fn0_str_t authority;       /* host[:port] the client addressed */
  fn0_str_t path_with_query; /* what the guest sees as its path */
  const fn0_header_t* headers;
  size_t header_count;
} fn0_request_head_t;

/* Per-request limits; zero means the default (PRODUCT.md §3). */
typedef struct fn0_limits_t {
  uint64_t cpu_time_ns;               /* guest CPU time; default 10 ms */
  uint64_t duration_ns;               /* wall clock; default 15 s */
  uint64_t max_memory_bytes;          /* default and cap: the engine's */
  uint64_t max_response_header_bytes; /* default 128 KiB */
  uint64_t max_log_bytes;             /* guest output kept per request; default 64 KiB */
  uint32_t max_subrequests;           /* outbound requests; 0 = none allowed */
  uint32_t reuse_instance_requests;   /* >1: an instance serves up to this many requests in turn; 0/1: fresh per request */
  uint32_t instance_concurrency;      /* WASI 0.3 with reuse: >1: requests one instance serves at once; 0/1: one at a time */
} fn0_limits_t;

typedef struct fn0_invoke_options_t {
  fn0_limits_t limits;
  const fn0_header_t* env; /* environment variables the guest sees */
  size_t env_count;
  /* Address ranges the guest may reach although loopback, private or
   * link-local: "10.0.0.0/8", "::1" (every port), "127.0.0.1/32:8080",
   * "[fd00::/8]:443" (one port). */
  const fn0_str_t* allow;
  size_t allow_count;
  /* 1: the request has no body (a GET): the guest sees it ended at once,
   * and fn0_invoke_start runs the guest on the calling thread until it
   * first has to wait. 0: the body follows through fn0_request_body_write
   * and the guest runs on adapter threads. */
  uint32_t no_request_body;
  /* The function's name, for the hints in the lines the engine writes to its
   * log (a refused outbound request says how to allow it). */
  fn0_str_t function;
  /* Handed to the key-value handler with each of this request's calls
   * (fn0_engine_set_kv_handler); must stay valid until fn0_request_delete
   * returns. NULL: the guest's wasi:keyvalue open() fails (no-such-store). */
  void* kv_session;
} fn0_invoke_options_t;

enum {
  FN0_OUTCOME_OK = 0,
  FN0_OUTCOME_CPU_LIMIT = 1,
  FN0_OUTCOME_MEMORY_LIMIT = 2,
  FN0_OUTCOME_DURATION_LIMIT = 3,
  FN0_OUTCOME_TRAP = 4,
  FN0_OUTCOME_INVALID_RESPONSE = 5,
  FN0_OUTCOME_GUEST_ERROR = 6, /* the guest answered with a wasi:http error code */
  FN0_OUTCOME_OVERLOADED = 7,  /* no free slot in the pooling allocator for the instance */
};

typedef struct fn0_outcome_t {
  uint32_t kind;             /* FN0_OUTCOME_* */
  uint32_t response_started; /* 1 if on_response was called */
  uint64_t cpu_ns;           /* guest CPU time used */
  uint64_t wall_ns;
  uint64_t instantiate_ns;   /* store creation + instantiation */
  fn0_str_t message;   /* why, for anything but OK: a short cause, never a backtrace */
  fn0_str_t backtrace; /* a trap's or interruption's wasm frames, innermost first, one per
                        * line, at most ~20; empty if none. For the function's log only. */
} fn0_outcome_t;

/* Called on the thread that called fn0_invoke_start (during that call) or
 * on adapter threads; must not block and must not call fn0_request_delete.
 * Pointers are valid only during the call. */
typedef struct fn0_invoke_callbacks_t {
  void* ctx;
  void (*on_response)(void* ctx, uint16_t status, const fn0_header_t* headers, size_t count);
  void (*on_response_body_readable)(void* ctx);
  void (*on_request_body_writable)(void* ctx);
  void (*on_log)(void* ctx, uint32_t stream /* 1 stdout, 2 stderr */, fn0_str_t line);
  void (*on_done)(void* ctx, const fn0_outcome_t* outcome);
} fn0_invoke_callbacks_t;

typedef struct fn0_request_t fn0_request_t;

/* Starts `component` on a request. Without a request body the guest runs
 * on the calling thread until it first has to wait (a hello-world runs to
 * the end; a busy guest yields within an epoch tick), then on adapter
 * threads; with one, on adapter threads from the start. Callbacks: on_response
 * at most once; on_response_body_readable after a read returned PENDING and
 * data or the end arrived; on_request_body_writable after a write returned
 * FULL and there is room; on_log any time before on_done; on_done exactly
 * once, last (the guest finished; response body data may remain to read).
 * The caller owns `*out` (fn0_request_delete). All inputs are copied. */
fn0_engine_error_t* fn0_invoke_start(const fn0_engine_t* engine, const fn0_component_t* component,
                                     const fn0_request_head_t* head,
                                     const fn0_invoke_options_t* options,
                                     const fn0_invoke_callbacks_t* callbacks,
                                     fn0_request_t** out);

enum { FN0_BODY_ACCEPTED = 0, FN0_BODY_FULL = 1, FN0_BODY_CLOSED = 2 };
/* Offers request body bytes (copied). FULL: nothing taken, wait for
 * on_request_body_writable. CLOSED: the guest reads no more. */
uint32_t fn0_request_body_write(fn0_request_t* req, const uint8_t* data, size_t len);
/* Ends the request body; aborted = 1 if the client went away mid-body. */
void fn0_request_body_finish(fn0_request_t* req, uint32_t aborted);

enum { FN0_BODY_DATA = 0, FN0_BODY_PENDING = 1, FN0_BODY_END = 2, FN0_BODY_FAILED = 3 };
/* Takes the next response body chunk into `*chunk` (DATA; free it with
 * fn0_bytes_delete). PENDING: wait for on_response_body_readable. END: the
 * body is complete. FAILED: it broke off and must not look complete. */
uint32_t fn0_response_body_read(fn0_request_t* req, fn0_bytes_t* chunk);

/* Frees the request, cancelling the guest if it still runs. No callback runs
 * after this returns, so `ctx` may then be freed. */
void fn0_request_delete(fn0_request_t* req);

/* ---- key-value store (engine/src/kv/) --------------------------------
 * A guest's wasi:keyvalue@0.2.0-draft and -draft2 calls (store, atomics, batch) go to
 * the node: the adapter copies each into a fn0_kv_call_t and hands it to the
 * handler, which answers through fn0_kv_complete exactly once, from any
 * thread, during the call or later. Meanwhile the guest waits without
 * using CPU time. The node checks access and limits; the adapter only
 * marshals. */

enum {
  FN0_KV_OPEN = 0, /* may the guest open `bucket`? */
  FN0_KV_GET = 1,
  FN0_KV_SET = 2,
  FN0_KV_DELETE = 3,
  FN0_KV_EXISTS = 4,
  FN0_KV_LIST_KEYS = 5,
  FN0_KV_INCREMENT = 6,
  FN0_KV_GET_MANY = 7,
  FN0_KV_SET_MANY = 8,
  FN0_KV_DELETE_MANY = 9,
  FN0_KV_SWAP = 10,             /* 0.2.0-draft2 compare-and-swap */
  FN0_KV_INCREMENT_SIGNED = 11, /* 0.2.0-draft2 increment: number is an int64_t's bits */
};

/* Valid only during the handler call: copy what is kept. */
typedef struct fn0_kv_call_t {
  uint32_t op;            /* FN0_KV_* */
  fn0_str_t bucket;       /* the identifier the guest opened the bucket with */
  const fn0_str_t* keys;  /* one for a single-key operation, none for OPEN and LIST_KEYS */
  size_t key_count;
  const fn0_str_t* values; /* SET: one; SET_MANY: one per key; SWAP: the new value, then the expected one if has_number */
  size_t value_count;
  uint64_t number;     /* INCREMENT(_SIGNED): the delta; LIST_KEYS: the cursor, if has_number */
  uint32_t has_number; /* SWAP: 1 when the key is expected to hold values[1], 0 when expected missing */
} fn0_kv_call_t;

enum {
  FN0_KV_STATUS_OK = 0,
  FN0_KV_STATUS_NO_SUCH_STORE = 1,
  FN0_KV_STATUS_ACCESS_DENIED = 2,
  FN0_KV_STATUS_OTHER = 3, /* `error` is the message the guest receives */
};

/* Copied by fn0_kv_complete. */
typedef struct fn0_kv_result_t {
  uint32_t status; /* FN0_KV_STATUS_* */
  fn0_str_t error;
  /* GET: none (no such key) or the value; GET_MANY: one per key asked, with
   * present[i] = 0 where there is none (present NULL: all there);
   * LIST_KEYS: the page's keys; SWAP that lost: one, what the key holds now. */
  const fn0_str_t* items;
  const uint8_t* present;
  size_t item_count;
  uint64_t number; /* EXISTS: 0 or 1; INCREMENT(_SIGNED): the new value; LIST_KEYS: the next cursor, if has_number;
                    * SWAP: 1 written, 0 lost */
  uint32_t has_number;
} fn0_kv_result_t;

typedef struct fn0_kv_done_t fn0_kv_done_t;
typedef void (*fn0_kv_handler_t)(void* session, const fn0_kv_call_t* call, fn0_kv_done_t* done);

/* Sets the handler of every request's key-value calls; call it before the
 * first request. */
void fn0_engine_set_kv_handler(const fn0_engine_t* engine, fn0_kv_handler_t handler);
/* Answers a call; frees `done`. */
void fn0_kv_complete(fn0_kv_done_t* done, const fn0_kv_result_t* result);

/* ---- S3 code store (engine/src/store.rs) ------------------------------
 * Not part of running guests: a blocking client for one S3 bucket, used by
 * src/store/s3_store.cc. Every call blocks the calling thread (which must
 * not be a tokio thread) until the request is answered; a handle may be used
 * from several threads at once. A server that went away answers within a
 * few seconds (2 s to connect, 5 s between reads, 30 s per request; 2
 * retries within 3 s). */

typedef struct fn0_s3_t fn0_s3_t;

/* What kind of failure an error from a fn0_s3_* call is. */
enum {
  FN0_S3_ERROR_OTHER = 0,
  FN0_S3_ERROR_UNAVAILABLE = 1, /* connection refused, timed out, reset */
  FN0_S3_ERROR_DENIED = 2,      /* credentials missing or refused, no permission */
  FN0_S3_ERROR_NO_BUCKET = 3,   /* the bucket does not exist */
};
uint32_t fn0_s3_error_kind(const fn0_engine_error_t* err);

/* Opens a handle on `bucket` (UTF-8) at `endpoint` ("http://host:port" or
 * "https://…"; NULL or empty: AWS). Credentials and region come from
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (default us-east-1).
 * Path-style requests. Does not contact the server. */
fn0_engine_error_t* fn0_s3_open(const uint8_t* bucket, size_t bucket_len, const uint8_t* endpoint,
                                size_t endpoint_len, fn0_s3_t** out);
void fn0_s3_delete(fn0_s3_t* s3);

/* Writes data[0..len] under `key` unless an object is there already (then
 * succeeds without rewriting it: keys are content-addressed). */
fn0_engine_error_t* fn0_s3_put(const fn0_s3_t* s3, const uint8_t* key, size_t key_len, const uint8_t* data,
                               size_t len);
/* *found = 1 and the object's bytes in *out (fn0_bytes_delete), or
 * *found = 0 when there is no object under `key`. */
fn0_engine_error_t* fn0_s3_get(const fn0_s3_t* s3, const uint8_t* key, size_t key_len, uint32_t* found,
                               fn0_bytes_t* out);
/* *exists = 1 when there is an object under `key`. A missing bucket reads as
 * 0 here (a HEAD answer has no error body); check the bucket with a put. */
fn0_engine_error_t* fn0_s3_exists(const fn0_s3_t* s3, const uint8_t* key, size_t key_len, uint32_t* exists);
/* Deletes the object under `key`; no error when there is none. */
fn0_engine_error_t* fn0_s3_remove(const fn0_s3_t* s3, const uint8_t* key, size_t key_len);
/* Every object under the folder `prefix` (every page of the listing), as
 * text in *out (fn0_bytes_delete): one line "KEY\tSIZE\tLAST_MODIFIED_MS"
 * per object, LAST_MODIFIED_MS in unix milliseconds. Keys holding a tab or
 * a newline are left out. */
fn0_engine_error_t* fn0_s3_list(const fn0_s3_t* s3, const uint8_t* prefix, size_t prefix_len, fn0_bytes_t* out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FN0_ENGINE_H */
