// Small helpers over the wit-bindgen C bindings of wasi:http, shared by the C
// examples: building header fields, starting a response and writing its body.
// The bindings themselves (c_handler.h) are generated at build time.
#ifndef FN0_EXAMPLES_HTTP_H
#define FN0_EXAMPLES_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "c_handler.h"

// Appends one header; false if the host rejects the name or value.
bool http_fields_add(wasi_http_types_own_fields_t fields, const char* name,
                     const uint8_t* value, size_t len);
bool http_fields_add_str(wasi_http_types_own_fields_t fields, const char* name, const char* value);

// A response whose headers have been sent; write the body to `stream`, then
// call http_response_finish.
typedef struct {
  wasi_http_types_own_outgoing_body_t body;
  wasi_io_streams_own_output_stream_t stream;
} http_response_t;

// Takes ownership of `headers` and `out`; sends the status and headers.
bool http_response_start(exports_wasi_http_incoming_handler_own_response_outparam_t out,
                         uint16_t status, wasi_http_types_own_fields_t headers,
                         http_response_t* response);

// Writes all of `data`, blocking as the host asks (4 KiB per call at most).
bool http_write_all(http_response_t* response, const uint8_t* data, size_t len);

// Closes the body stream and finishes the body (no trailers).
void http_response_finish(http_response_t* response);

#endif
