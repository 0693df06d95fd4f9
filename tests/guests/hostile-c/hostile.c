// A guest that misbehaves on request, for the limit tests. The path picks the
// behaviour; query parameters tune it:
//   /loop                 spin forever (CPU limit)
//   /alloc                allocate and touch memory until it runs out (memory limit)
//   /recurse              unbounded recursion (stack overflow trap)
//   /trap                 execute `unreachable`
//   /big?mb=N             stream N MiB of response body, 64 KiB writes
//   /sleep?ms=N           wait N ms on a timer (I/O wait, not CPU), then answer
//   /fetch?url=U          one outbound GET; answers "status=S" or "error=E"
//   /subrequests?n=N&url=U  N outbound GETs; answers "ok=K first_error_at=I error=E"
//   /env?name=X           answers the value of environment variable X
//   /log?lines=N          writes N lines to stdout and one to stderr
//   /big-headers?kb=N     answers with one N KiB response header
//   /status?code=N        answers with status N, whatever it is (101, 600, 999)
//   /header?name=X&value=Y  answers 200 with the response header X: Y
//   /many-headers?n=N     answers 200 with N headers x-h-0 .. x-h-<N-1>
//   /no-response          returns without setting a response
//   /count                answers how many requests this instance has served
//   /reads                reads the request body; answers "reads=R bytes=B", R being
//                         how many reads of up to 64 KiB returned data
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

// ---- request parsing -------------------------------------------------------

static char g_path[4096];
static char g_query[4096];

static const char* param(const char* name, char* out, size_t cap) {
  size_t n = strlen(name);
  for (const char* p = g_query; *p;) {
    const char* amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
      size_t v = len - n - 1 < cap - 1 ? len - n - 1 : cap - 1;
      memcpy(out, p + n + 1, v);
      out[v] = 0;
      return out;
    }
    p += len + (amp ? 1 : 0);
  }
  out[0] = 0;
  return NULL;
}

static long param_long(const char* name, long dflt) {
  char buf[32];
  return param(name, buf, sizeof buf) ? atol(buf) : dflt;
}

// ---- responding --------------------------------------------------------------

static void respond_text(exports_wasi_http_incoming_handler_own_response_outparam_t out, uint16_t status,
                         const char* text) {
  wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
  http_fields_add_str(headers, "content-type", "text/plain");
  http_response_t r;
  if (!http_response_start(out, status, headers, &r)) return;
  http_write_all(&r, (const uint8_t*)text, strlen(text));
  http_response_finish(&r);
}

// ---- behaviours ----------------------------------------------------------------

static volatile uint64_t g_sink;

static void spin(void) {
  for (;;) g_sink++;
}

static void alloc_until_exhausted(void) {
  for (;;) {
    char* p = malloc(1 << 20);
    if (!p) abort();  // the memory limit: trap
    memset(p, 1, 1 << 20);
    g_sink += (uint64_t)(uintptr_t)p;
  }
}

static uint64_t recurse(uint64_t depth) {
  volatile char frame[256];
  if (depth == UINT64_MAX) return 0;  // never: keeps the compiler from calling this infinite
  frame[depth % 256] = (char)depth;
  return recurse(depth + 1) + frame[depth % 256];
}

static void sleep_ms(long ms) {
  wasi_io_poll_own_pollable_t timer =
      wasi_clocks_monotonic_clock_subscribe_duration((uint64_t)ms * 1000000ull);
  wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(timer));
  wasi_io_poll_pollable_drop_own(timer);
}

static void stream_big(exports_wasi_http_incoming_handler_own_response_outparam_t out, long mb) {
  static uint8_t chunk[64 * 1024];
  memset(chunk, 'x', sizeof chunk);
  wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
  http_fields_add_str(headers, "content-type", "application/octet-stream");
  http_response_t r;
  if (!http_response_start(out, 200, headers, &r)) return;
  wasi_io_streams_borrow_output_stream_t s = wasi_io_streams_borrow_output_stream(r.stream);
  uint64_t left = (uint64_t)mb << 20;
  while (left > 0) {
    uint64_t permit = 0;
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_output_stream_check_write(s, &permit, &err)) break;
    if (permit == 0) {
      wasi_io_poll_own_pollable_t ready = wasi_io_streams_method_output_stream_subscribe(s);
      wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
      wasi_io_poll_pollable_drop_own(ready);
      continue;
    }
    uint64_t n = left < permit ? left : permit;
    if (n > sizeof chunk) n = sizeof chunk;
    c_handler_list_u8_t data = {chunk, (size_t)n};
    if (!wasi_io_streams_method_output_stream_write(s, &data, &err)) break;
    left -= n;
  }
  http_response_finish(&r);
}

// Splits "http://host:port/path" into authority and path; false if malformed.
static bool split_url(const char* url, char* authority, char* path) {
  const char* p = strstr(url, "://");
  if (!p) return false;
  p += 3;
  const char* slash = strchr(p, '/');
  size_t alen = slash ? (size_t)(slash - p) : strlen(p);
  if (alen == 0 || alen > 255) return false;
  memcpy(authority, p, alen);
  authority[alen] = 0;
  strcpy(path, slash ? slash : "/");
  return true;
}

// One outbound GET. Returns the status (>0) or -(1 + error-code tag).
static int fetch(const char* url) {
  char authority[256], path[2048];
  if (!split_url(url, authority, path)) return -1000;
  wasi_http_types_own_outgoing_request_t req =
      wasi_http_types_constructor_outgoing_request(wasi_http_types_constructor_fields());
  wasi_http_types_borrow_outgoing_request_t b = wasi_http_types_borrow_outgoing_request(req);
  wasi_http_types_scheme_t scheme = {.tag = WASI_HTTP_TYPES_SCHEME_HTTP};
  c_handler_string_t a, pq;
  c_handler_string_set(&a, authority);
  c_handler_string_set(&pq, path);
  wasi_http_types_method_outgoing_request_set_scheme(b, &scheme);
  wasi_http_types_method_outgoing_request_set_authority(b, &a);
  wasi_http_types_method_outgoing_request_set_path_with_query(b, &pq);
  wasi_http_outgoing_handler_own_future_incoming_response_t future;
  wasi_http_outgoing_handler_error_code_t err;
  if (!wasi_http_outgoing_handler_handle(req, NULL, &future, &err)) return -(1 + err.tag);
  wasi_io_poll_own_pollable_t ready = wasi_http_types_method_future_incoming_response_subscribe(
      wasi_http_types_borrow_future_incoming_response(future));
  wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
  wasi_io_poll_pollable_drop_own(ready);
  wasi_http_types_result_result_own_incoming_response_error_code_void_t got;
  int result = -999;
  if (wasi_http_types_method_future_incoming_response_get(
          wasi_http_types_borrow_future_incoming_response(future), &got) &&
      !got.is_err) {
    if (got.val.ok.is_err) {
      result = -(1 + got.val.ok.val.err.tag);
    } else {
      wasi_http_types_own_incoming_response_t resp = got.val.ok.val.ok;
      result = wasi_http_types_method_incoming_response_status(wasi_http_types_borrow_incoming_response(resp));
      wasi_http_types_incoming_response_drop_own(resp);
    }
  }
  wasi_http_types_future_incoming_response_drop_own(future);
  return result;
}

static void describe_fetch(int r, char* out, size_t cap) {
  if (r > 0)
    snprintf(out, cap, "status=%d", r);
  else if (r == -1 - WASI_HTTP_TYPES_ERROR_CODE_DESTINATION_IP_PROHIBITED)
    snprintf(out, cap, "error=destination-ip-prohibited");
  else if (r == -1 - WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR)
    snprintf(out, cap, "error=internal-error");
  else
    snprintf(out, cap, "error=code-%d", -r - 1);
}

// Reads the whole request body with blocking reads, counting those that
// returned data: the number of times the host woke the guest with body bytes.
static void count_body_reads(wasi_http_types_borrow_incoming_request_t req, long* reads, long* bytes) {
  wasi_http_types_own_incoming_body_t body;
  if (!wasi_http_types_method_incoming_request_consume(req, &body)) return;
  wasi_io_streams_own_input_stream_t in;
  if (wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body), &in)) {
    for (;;) {
      c_handler_list_u8_t data;
      wasi_io_streams_stream_error_t err;
      if (!wasi_io_streams_method_input_stream_blocking_read(wasi_io_streams_borrow_input_stream(in),
                                                             65536, &data, &err)) {
        if (err.tag == WASI_IO_STREAMS_STREAM_ERROR_LAST_OPERATION_FAILED)
          wasi_io_error_error_drop_own(err.val.last_operation_failed);
        break;
      }
      if (data.len) {
        ++*reads;
        *bytes += (long)data.len;
      }
      c_handler_list_u8_free(&data);
    }
    wasi_io_streams_input_stream_drop_own(in);
  }
  wasi_http_types_incoming_body_drop_own(body);
}

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t out) {
  c_handler_string_t pq = {0};
  if (wasi_http_types_method_incoming_request_path_with_query(
          wasi_http_types_borrow_incoming_request(request), &pq)) {
    size_t n = pq.len < sizeof g_path - 1 ? pq.len : sizeof g_path - 1;
    memcpy(g_path, pq.ptr, n);
    g_path[n] = 0;
    c_handler_string_free(&pq);
  }
  char* q = strchr(g_path, '?');
  g_query[0] = 0;
  if (q) {
    strncpy(g_query, q + 1, sizeof g_query - 1);
    *q = 0;
  }
  char buf[512];
  if (!strcmp(g_path, "/reads")) {
    long reads = 0, bytes = 0;
    count_body_reads(wasi_http_types_borrow_incoming_request(request), &reads, &bytes);
    wasi_http_types_incoming_request_drop_own(request);
    snprintf(buf, sizeof buf, "reads=%ld bytes=%ld", reads, bytes);
    respond_text(out, 200, buf);
    return;
  }
  wasi_http_types_incoming_request_drop_own(request);

  if (!strcmp(g_path, "/loop")) spin();
  if (!strcmp(g_path, "/alloc")) alloc_until_exhausted();
  if (!strcmp(g_path, "/recurse")) g_sink = recurse(0);
  if (!strcmp(g_path, "/trap")) __builtin_trap();
  if (!strcmp(g_path, "/no-response")) {
    wasi_http_types_response_outparam_drop_own(out);
    return;
  }
  if (!strcmp(g_path, "/count")) {
    static long served;
    snprintf(buf, sizeof buf, "count=%ld", ++served);
    respond_text(out, 200, buf);
    return;
  }
  if (!strcmp(g_path, "/big")) {
    stream_big(out, param_long("mb", 1));
    return;
  }
  if (!strcmp(g_path, "/sleep")) {
    long ms = param_long("ms", 100);
    sleep_ms(ms);
    snprintf(buf, sizeof buf, "slept %ld ms\n", ms);
    respond_text(out, 200, buf);
    return;
  }
  if (!strcmp(g_path, "/fetch")) {
    char url[2048];
    param("url", url, sizeof url);
    describe_fetch(fetch(url), buf, sizeof buf);
    respond_text(out, 200, buf);
    return;
  }
  if (!strcmp(g_path, "/subrequests")) {
    char url[2048], why[128] = "none";
    param("url", url, sizeof url);
    long n = param_long("n", 1), ok = 0, first_error = 0;
    for (long i = 1; i <= n; i++) {
      int r = fetch(url);
      if (r > 0) {
        ok++;
      } else if (!first_error) {
        first_error = i;
        describe_fetch(r, why, sizeof why);
      }
    }
    snprintf(buf, sizeof buf, "ok=%ld first_error_at=%ld %s", ok, first_error, why);
    respond_text(out, 200, buf);
    return;
  }
  if (!strcmp(g_path, "/env")) {
    char name[128];
    param("name", name, sizeof name);
    const char* v = getenv(name);
    respond_text(out, v ? 200 : 404, v ? v : "unset");
    return;
  }
  if (!strcmp(g_path, "/log")) {
    long lines = param_long("lines", 1);
    for (long i = 0; i < lines; i++) printf("stdout line %ld\n", i);
    fprintf(stderr, "stderr line\n");
    fflush(stdout);
    respond_text(out, 200, "logged\n");
    return;
  }
  if (!strcmp(g_path, "/big-headers")) {
    long kb = param_long("kb", 1);
    char* v = malloc((size_t)kb * 1024 + 1);
    memset(v, 'h', (size_t)kb * 1024);
    v[kb * 1024] = 0;
    wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
    http_fields_add_str(headers, "x-big", v);
    http_response_t r;
    if (http_response_start(out, 200, headers, &r)) http_response_finish(&r);
    free(v);
    return;
  }
  if (!strcmp(g_path, "/status")) {
    respond_text(out, (uint16_t)param_long("code", 200), "chosen status\n");
    return;
  }
  if (!strcmp(g_path, "/header")) {
    char name[256], value[1024];
    param("name", name, sizeof name);
    param("value", value, sizeof value);
    wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
    bool added = http_fields_add_str(headers, name, value);
    http_response_t r;
    if (http_response_start(out, 200, headers, &r)) {
      const char* text = added ? "header set\n" : "header refused\n";
      http_write_all(&r, (const uint8_t*)text, strlen(text));
      http_response_finish(&r);
    }
    return;
  }
  if (!strcmp(g_path, "/many-headers")) {
    long n = param_long("n", 1);
    wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
    for (long i = 0; i < n; i++) {
      char name[32];
      snprintf(name, sizeof name, "x-h-%ld", i);
      http_fields_add_str(headers, name, "v");
    }
    http_response_t r;
    if (http_response_start(out, 200, headers, &r)) http_response_finish(&r);
    return;
  }
  respond_text(out, 404, "unknown behaviour\n");
}
