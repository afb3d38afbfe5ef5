package ember

// #include "ember/ember.h"
import "C"

// Status is an ember_status value. The numbers are ember's ABI and never change; the library
// may return values this package does not name, which are failures too.
type Status int32

const (
	StatusOK              Status = 0
	StatusInvalidArgument Status = 1
	StatusIO              Status = 2
	StatusInvalidModel    Status = 3
	StatusUnsupported     Status = 4
	StatusOutOfMemory     Status = 5
	StatusContextFull     Status = 6
	StatusCancelled       Status = 7
	StatusInvalidToken    Status = 8
	StatusInvalidUTF8     Status = 9
	StatusBufferTooSmall  Status = 10
	StatusInternal        Status = 11
	StatusBadState        Status = 12
)

// String is the library's name of the status ("EMBER_ERR_IO"; "EMBER_ERR_UNKNOWN" if unknown).
func (s Status) String() string { return C.GoString(C.ember_status_name(C.ember_status(s))) }

// Error is a failed ember call. For a generation that failed after producing tokens
// (cancelled, context full), Partial holds what it produced; those tokens stay in the session.
type Error struct {
	Status  Status
	Message string // ember_last_error(), read on the thread of the call
	Partial *Completion
}

func (e *Error) Error() string { return e.Status.String() + ": " + e.Message }

// Is makes errors.Is(err, ember.StatusCancelled) (any Status) match an *Error of that status.
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// Error makes a Status usable as an errors.Is target.
func (s Status) Error() string { return s.String() }
