// The S3 code store (internal; open it through openCodeStore).
#pragma once

#include <memory>
#include <string>

#include "store/code_store.h"

namespace fn0::store {

// `bucket` at `endpoint` ("http://host:port", "https://…"; empty: AWS).
// Credentials from the AWS_* environment variables; fails with kStoreDenied
// when there are none. Does not contact the server.
Result<std::unique_ptr<CodeStore>> openS3Store(const std::string& bucket, const std::string& endpoint);

}  // namespace fn0::store
