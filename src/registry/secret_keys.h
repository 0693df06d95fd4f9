// The secrets key file (`fn0 serve --secrets-key-file`, default
// <data-dir>/secrets.key) and the keys a node holds from it.
//
// The file is text, one key per line, newest first:
//
//   # comments and blank lines are ignored
//   <id> <key: 64 hex digits>
//
// where <id> is secretKeyId(key), so a damaged line is caught. It must be
// readable by its owner only (mode 0600): fn0 refuses a file that group or
// others may read or write. Several keys are normal during a rotation: the
// registry names, beside every value, the key that sealed it, and says
// which key new values are sealed with (secrets_at_rest.cc), so the order in
// the file decides only which key a fresh registry starts with and which
// one `fn0 secrets-key rotate` moves to.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "registry/secret_box.h"

namespace fn0::registry {

// The keys of one file, newest first.
struct SecretKeyring {
  std::vector<SecretKey> keys;

  // Errors name the line and what is wrong with it, never a key.
  static Result<SecretKeyring> parse(std::string_view text);
  // The file's text: a header saying what the file is, then one line per key.
  std::string text() const;
  const SecretKey* find(std::string_view id) const;
  std::vector<std::string> ids() const;
};

// Reads and checks a key file: a regular file, not open to group or
// others, well formed, with at least one key. Errors name the file and say
// how to fix it.
Result<SecretKeyring> readSecretKeyFile(const std::filesystem::path& file);

// Writes `ring` to `file` (mode 0600) so that a crash leaves the old file or
// the new one. With `replace` false it never overwrites a file that exists
// (two nodes generating a key for one path at once: one wins, the other
// fails and reads the winner's).
Result<void> writeSecretKeyFile(const std::filesystem::path& file, const SecretKeyring& ring, bool replace);

// The keys a node holds: its key file, read at start and read again when
// the registry names a key the node does not hold yet (a rotation reached
// the file after the node started: no restart needed). Thread-safe.
class SecretKeys {
 public:
  explicit SecretKeys(std::filesystem::path file) : file_(std::move(file)) {}

  const std::filesystem::path& file() const { return file_; }
  bool fileExists() const;

  // Reads the file (readSecretKeyFile); the keys held so far stay on error.
  Result<void> load();
  // Creates the file with one new key (never over an existing file) and
  // holds it. Returns the new key's id.
  Result<std::string> generate();

  // The key named `id`; when it is not held, the file is read again first
  // if it changed since it was last read.
  std::optional<SecretKey> find(const std::string& id);
  std::vector<std::string> ids() const;  // newest first
  std::optional<SecretKey> newest() const;

 private:
  struct Stamp {
    ino_t inode = 0;
    off_t size = 0;
    timespec mtime{};
  };
  std::optional<Stamp> stampNow() const;

  const std::filesystem::path file_;
  mutable std::mutex mu_;
  SecretKeyring ring_;
  std::optional<Stamp> readStamp_;  // the file as it was when read
};

}  // namespace fn0::registry
