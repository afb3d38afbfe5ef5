// Compiled by header_compile.sh as C++17 with -Wall -Wextra -Werror -pedantic: the C
// header and the C++ wrapper must both be clean for C++ hosts.
#include "ember/ember.h"
#include "ember/ember.hpp"

static_assert(EMBER_VERSION_NUMBER ==
              EMBER_VERSION_MAJOR * 1000000 + EMBER_VERSION_MINOR * 1000 + EMBER_VERSION_PATCH);

int header_cxx17_uses(const char* path);
int header_cxx17_uses(const char* path) {
  ember_model* model = nullptr;
  // [[nodiscard]] in C++17: a cast to void is the documented way to drop a status.
  (void)ember_model_load(path, nullptr, &model);
  ember_model_free(model);
  try {
    ember::Model m(path);
    return m.n_vocab();
  } catch (const ember::Error& e) {
    return static_cast<int>(e.status());
  }
}
