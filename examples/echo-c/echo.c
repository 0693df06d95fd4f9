// Echo in C: the request body streams back unchanged (spliced from the
// incoming stream to the outgoing one, 64 KiB at a time, never held whole);
// method, path, query and headers come back in x-echo-* headers, the headers
// as a JSON list of [name, value] pairs in the order received.
#include <stdlib.h>
#include <string.h>

#include "http.h"

// ---- a growable byte buffer for the JSON ----------------------------------
typedef struct {
  char* data;
  size_t len, cap;
} buf_t;

static void buf_put(buf_t* b, const char* s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->data = realloc(b->data, b->cap);
    if (!b->data) abort();
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}

// A JSON string; bytes outside printable ASCII become \u00XX (header values
// are bytes, and a response header value must stay printable ASCII).
static void buf_json_string(buf_t* b, const uint8_t* s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  buf_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      buf_put(b, esc, 2);
    } else if (c < 0x20 || c >= 0x7f) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      buf_put(b, esc, 6);
    } else {
      buf_put(b, (const char*)&c, 1);
    }
  }
  buf_put(b, "\"", 1);
}

static const char* method_name(const wasi_http_types_method_t* m, buf_t* other) {
  static const char* names[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  if (m->tag < WASI_HTTP_TYPES_METHOD_OTHER) return names[m->tag];
  buf_put(other, (const char*)m->val.other.ptr, m->val.other.len);
  return other->data;
}

// Copies the request headers into `out` (as the JSON header) and returns the
// request's content-type, if any, into `content_type`.
static void headers_json(wasi_http_types_borrow_incoming_request_t req, buf_t* json,
                         buf_t* content_type) {
  wasi_http_types_own_headers_t headers = wasi_http_types_method_incoming_request_headers(req);
  wasi_http_types_list_tuple2_field_name_field_value_t entries;
  wasi_http_types_method_fields_entries(wasi_http_types_borrow_fields(headers), &entries);
  buf_put(json, "[", 1);
  for (size_t i = 0; i < entries.len; i++) {
    wasi_http_types_tuple2_field_name_field_value_t* e = &entries.ptr[i];
    if (i) buf_put(json, ",", 1);
    buf_put(json, "[", 1);
    buf_json_string(json, e->f0.ptr, e->f0.len);
    buf_put(json, ",", 1);
    buf_json_string(json, e->f1.ptr, e->f1.len);
    buf_put(json, "]", 1);
    if (e->f0.len == 12 && strncasecmp((const char*)e->f0.ptr, "content-type", 12) == 0 &&
        !content_type->len)
      buf_put(content_type, (const char*)e->f1.ptr, e->f1.len);
  }
  buf_put(json, "]", 1);
  wasi_http_types_list_tuple2_field_name_field_value_free(&entries);
  wasi_http_types_fields_drop_own(headers);
}

// Streams the request body into the response body until the client's stream
// ends. Returns false if either side failed.
static bool splice_body(wasi_http_types_borrow_incoming_request_t req, http_response_t* resp) {
  wasi_http_types_own_incoming_body_t body;
  if (!wasi_http_types_method_incoming_request_consume(req, &body)) return false;
  wasi_io_streams_own_input_stream_t in;
  if (!wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body), &in)) {
    wasi_http_types_incoming_body_drop_own(body);
    return false;
  }
  bool ok = true;
  for (;;) {
    uint64_t moved;
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_output_stream_blocking_splice(
            wasi_io_streams_borrow_output_stream(resp->stream),
            wasi_io_streams_borrow_input_stream(in), 65536, &moved, &err)) {
      if (err.tag == WASI_IO_STREAMS_STREAM_ERROR_LAST_OPERATION_FAILED) {
        wasi_io_error_error_drop_own(err.val.last_operation_failed);
        ok = false;
      }
      break;  // closed: the whole body has been copied
    }
  }
  wasi_io_streams_input_stream_drop_own(in);
  wasi_http_types_incoming_body_drop_own(body);
  return ok;
}

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t response_out) {
  wasi_http_types_borrow_incoming_request_t req = wasi_http_types_borrow_incoming_request(request);

  wasi_http_types_method_t method;
  wasi_http_types_method_incoming_request_method(req, &method);
  buf_t other = {0};
  const char* method_str = method_name(&method, &other);

  c_handler_string_t pq = {0};
  bool has_pq = wasi_http_types_method_incoming_request_path_with_query(req, &pq);
  buf_t path = {0}, query = {0};
  buf_put(&path, "", 0);
  buf_put(&query, "", 0);
  if (has_pq) {
    const char* q = memchr(pq.ptr, '?', pq.len);
    size_t path_len = q ? (size_t)(q - (const char*)pq.ptr) : pq.len;
    buf_put(&path, (const char*)pq.ptr, path_len);
    if (q) buf_put(&query, q + 1, pq.len - path_len - 1);
  }

  buf_t json = {0}, content_type = {0};
  headers_json(req, &json, &content_type);

  wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
  http_fields_add_str(headers, "content-type",
                      content_type.len ? content_type.data : "application/octet-stream");
  http_fields_add_str(headers, "x-echo-method", method_str);
  http_fields_add_str(headers, "x-echo-path", path.data);
  http_fields_add_str(headers, "x-echo-query", query.data);
  http_fields_add_str(headers, "x-echo-headers", json.data);

  http_response_t response;
  if (http_response_start(response_out, 200, headers, &response)) {
    splice_body(req, &response);
    http_response_finish(&response);
  }
  wasi_http_types_incoming_request_drop_own(request);
  wasi_http_types_method_free(&method);
  if (has_pq) c_handler_string_free(&pq);
  free(other.data);
  free(path.data);
  free(query.data);
  free(json.data);
  free(content_type.data);
}
