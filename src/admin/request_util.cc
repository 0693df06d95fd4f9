#include "admin/request_util.h"

#include <strings.h>

namespace fn0::admin {

std::string queryParam(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
    if (kv == name) return "true";
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

std::string requestHeader(const http::Request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

}  // namespace fn0::admin
