/* Compiled by header_compile.sh as C99 with -Wall -Wextra -Werror -pedantic: the public
** header must stay plain C99 (no C++ or newer-C constructs, no warnings). Every status is
** tested, as EMBER_NODISCARD requires. */
#include "ember/ember.h"

#if EMBER_VERSION_NUMBER != EMBER_VERSION_MAJOR * 1000000 + EMBER_VERSION_MINOR * 1000 + EMBER_VERSION_PATCH
#error "EMBER_VERSION_NUMBER disagrees with EMBER_VERSION_MAJOR/MINOR/PATCH"
#endif

static int32_t on_token(void *user_data, int32_t token, const char *text, size_t text_len) {
  (void)user_data;
  (void)token;
  (void)text;
  return text_len > 0 ? 0 : 1;
}

int header_c99_uses(const char *path);
int header_c99_uses(const char *path) {
  ember_model *model = NULL;
  ember_session *session = NULL;
  ember_token_callback callback = on_token;
  int32_t n = 0;
  if (ember_model_load(path, NULL, &model) != EMBER_OK) return 1;
  if (ember_session_create(model, NULL, &session) == EMBER_OK) {
    if (ember_session_generate(session, "a", 1, EMBER_TOKENIZE_DEFAULT, 4, EMBER_GENERATE_DEFAULT,
                               callback, NULL, &n) != EMBER_OK) {
      n = -1;
    }
  }
  ember_session_free(session);
  ember_model_free(model);
  return n;
}
