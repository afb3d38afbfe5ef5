// Must NOT compile with -Werror: an ignored ember_status is a warning ([[nodiscard]]).
#include "ember/ember.h"

int nodiscard_ignored(ember_session* session);
int nodiscard_ignored(ember_session* session) {
  ember_session_reset(session);
  return 0;
}
