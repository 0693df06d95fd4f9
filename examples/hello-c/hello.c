// The smallest fn0 function in C: answers every request with a greeting.
#include <string.h>

#include "http.h"

static const char kGreeting[] = "Hello from fn0 (C)!\n";

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t response_out) {
  wasi_http_types_incoming_request_drop_own(request);

  wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
  http_fields_add_str(headers, "content-type", "text/plain; charset=utf-8");
  http_response_t response;
  if (!http_response_start(response_out, 200, headers, &response)) return;
  http_write_all(&response, (const uint8_t*)kGreeting, strlen(kGreeting));
  http_response_finish(&response);
}
