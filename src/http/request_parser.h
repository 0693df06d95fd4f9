// The request parser the server uses: Beast's, made safe for any input.
#pragma once

#include <boost/beast/http.hpp>

#include "http/request_head.h"

namespace fn0::http {

// Beast's request parser, except that a field (or trailer) too long for
// Beast's 16-bit field lengths is a header_limit error instead of a
// std::length_error thrown through the I/O thread.
class RequestParser : public boost::beast::http::request_parser<boost::beast::http::buffer_body> {
  void on_field_impl(boost::beast::http::field f, boost::beast::string_view name, boost::beast::string_view value,
                     boost::beast::error_code& ec) override {
    if (name.size() > kMaxFieldLineBytes || value.size() > kMaxFieldLineBytes) {
      ec = boost::beast::http::error::header_limit;
      return;
    }
    get().insert(f, name, value);
  }
};

}  // namespace fn0::http
