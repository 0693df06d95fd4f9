// Project templates (templates/ in the repo), embedded in the binary.
#pragma once

#include <string>
#include <vector>

namespace fn0::cli {

struct TemplateFile {
  const char* language;  // a language (lang/language.h), or "guest-js" for the JS glue
  const char* path;      // relative to the project
  const char* content;   // "{{name}}" is replaced by the project name
};

const std::vector<TemplateFile>& templateFiles();

}  // namespace fn0::cli
