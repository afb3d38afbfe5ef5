package ember

/*
#include <stdint.h>
#include "ember/ember.h"

// Declared as cgo writes it in _cgo_export.h (callback.go).
extern int32_t emberGoOnToken(void *userData, int32_t token, char *text, size_t textLen);

// generate_ex with the Go trampoline; `handle` is a runtime/cgo.Handle, passed as an
// integer and turned into the user-data pointer here, in C.
static ember_status ember_go_generate(ember_session *session, const char *prompt, size_t prompt_len,
                                      uint32_t tokenize_flags, const ember_generate_options *options,
                                      uintptr_t handle, int32_t *n_generated, int32_t *stop_reason) {
  return ember_session_generate_ex(session, prompt, prompt_len, tokenize_flags, options,
                                   (ember_token_callback)emberGoOnToken, (void *)handle,
                                   n_generated, stop_reason);
}
*/
import "C"

import "runtime/cgo"

// generateEx runs one ember_session_generate_ex call delivering pieces to s. The caller
// holds the OS thread (the error is read on it).
func generateEx(session *C.ember_session, prompt []byte, flags uint32, options *C.ember_generate_options,
	s *stream) (nGenerated int32, stopReason int32, err error) {
	handle := cgo.NewHandle(s)
	defer handle.Delete()
	var n, reason C.int32_t
	status := C.ember_go_generate(session, bytesPtr(prompt), C.size_t(len(prompt)), C.uint32_t(flags), options,
		C.uintptr_t(handle), &n, &reason)
	return int32(n), int32(reason), statusError(status)
}
