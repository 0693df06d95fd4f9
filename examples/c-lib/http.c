#include "http.h"

#include <string.h>

bool http_fields_add(wasi_http_types_own_fields_t fields, const char* name,
                     const uint8_t* value, size_t len) {
  wasi_http_types_field_name_t n = {(uint8_t*)name, strlen(name)};
  wasi_http_types_field_value_t v = {(uint8_t*)value, len};
  wasi_http_types_header_error_t err;
  return wasi_http_types_method_fields_append(wasi_http_types_borrow_fields(fields), &n, &v, &err);
}

bool http_fields_add_str(wasi_http_types_own_fields_t fields, const char* name, const char* value) {
  return http_fields_add(fields, name, (const uint8_t*)value, strlen(value));
}

bool http_response_start(exports_wasi_http_incoming_handler_own_response_outparam_t out,
                         uint16_t status, wasi_http_types_own_fields_t headers,
                         http_response_t* response) {
  wasi_http_types_own_outgoing_response_t resp = wasi_http_types_constructor_outgoing_response(headers);
  wasi_http_types_borrow_outgoing_response_t borrowed = wasi_http_types_borrow_outgoing_response(resp);
  if (!wasi_http_types_method_outgoing_response_set_status_code(borrowed, status) ||
      !wasi_http_types_method_outgoing_response_body(borrowed, &response->body)) {
    wasi_http_types_outgoing_response_drop_own(resp);
    wasi_http_types_response_outparam_drop_own(out);
    return false;
  }
  if (!wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(response->body),
                                                  &response->stream)) {
    wasi_http_types_outgoing_body_drop_own(response->body);
    wasi_http_types_outgoing_response_drop_own(resp);
    wasi_http_types_response_outparam_drop_own(out);
    return false;
  }
  wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = false};
  result.val.ok = resp;
  wasi_http_types_static_response_outparam_set(out, &result);
  return true;
}

bool http_write_all(http_response_t* response, const uint8_t* data, size_t len) {
  wasi_io_streams_borrow_output_stream_t stream = wasi_io_streams_borrow_output_stream(response->stream);
  while (len > 0) {
    size_t n = len < 4096 ? len : 4096;
    c_handler_list_u8_t chunk = {(uint8_t*)data, n};
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(stream, &chunk, &err)) {
      if (err.tag == WASI_IO_STREAMS_STREAM_ERROR_LAST_OPERATION_FAILED)
        wasi_io_error_error_drop_own(err.val.last_operation_failed);
      return false;
    }
    data += n;
    len -= n;
  }
  return true;
}

void http_response_finish(http_response_t* response) {
  wasi_io_streams_output_stream_drop_own(response->stream);
  wasi_http_types_error_code_t err;
  wasi_http_types_own_trailers_t* no_trailers = NULL;
  if (!wasi_http_types_static_outgoing_body_finish(response->body, no_trailers, &err))
    wasi_http_types_error_code_free(&err);
}
