#include "common/failpoint.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace fn0 {

void failpoint(const char* name) {
  static const char* armed = std::getenv("FN0_FAILPOINT");
  if (armed && std::strcmp(armed, name) == 0) std::raise(SIGKILL);
}

void pausepoint(const char* name) {
  static const char* armed = std::getenv("FN0_PAUSEPOINT");
  if (!armed) return;
  const char* colon = std::strrchr(armed, ':');
  if (!colon || std::string(armed, colon) != name) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atol(colon + 1)));
}

}  // namespace fn0
