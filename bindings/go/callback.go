package ember

// The preamble of a file with //export may only declare (cgo's rule), so the C side of the
// trampoline lives in generate_trampoline.go.

// #include <stdint.h>
// #include <stddef.h>
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// emberGoOnToken is the ember_token_callback of Session.Generate: userData is a cgo.Handle
// of the running generation's *stream (a Go pointer may not be handed to C).
//
//export emberGoOnToken
func emberGoOnToken(userData unsafe.Pointer, token C.int32_t, text *C.char, textLen C.size_t) C.int32_t {
	s := cgo.Handle(uintptr(userData)).Value().(*stream)
	piece := Piece{Token: int32(token), Text: C.GoStringN(text, C.int(textLen))}
	if s.deliver(piece) {
		return 0
	}
	return 1
}
