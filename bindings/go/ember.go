// Package ember is the Go binding of ember, an embeddable LLM inference library, over its
// C ABI (include/ember/ember.h) through cgo.
//
// Threading follows ember.h: a Model is immutable and safe for concurrent use by any number
// of goroutines; a Session is used by one goroutine at a time, except Cancel, which any
// goroutine may call. Every C object is freed exactly once, by Close (a finalizer frees a
// forgotten one). Failures are *Error values carrying the status (named by
// ember_status_name) and ember_last_error's message.
//
// The library is linked with -lember: point cgo at it with CGO_LDFLAGS and, for a build
// tree, at its generated ember/ember_version.h with CGO_CFLAGS (CGO_CFLAGS=-I$BUILD/include
// CGO_LDFLAGS="-L$BUILD/lib -Wl,-rpath,$BUILD/lib"); a `cmake --install` to a standard
// prefix needs nothing.
package ember

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -lember
#include <stdlib.h>
#include "ember/ember.h"
*/
import "C"

import (
	"fmt"
	"runtime"
)

// RequiredVersionNumber is the oldest library this package works with
// (MAJOR*1000000 + MINOR*1000 + PATCH); any later library of the same major version works.
const RequiredVersionNumber = 1000

// Version is the linked library's version string ("0.1.0").
func Version() string { return C.GoString(C.ember_version()) }

// VersionNumber is the linked library's version number.
func VersionNumber() int { return int(C.ember_version_number()) }

// CheckVersion reports whether the linked library is one this package can use.
func CheckVersion() error {
	n := VersionNumber()
	if n/1000000 != RequiredVersionNumber/1000000 || n < RequiredVersionNumber {
		return &Error{Status: StatusUnsupported,
			Message: fmt.Sprintf("libember %s (%d) is not compatible with this package (needs %d)", Version(), n, RequiredVersionNumber)}
	}
	return nil
}

// call runs one fallible C call and, if it fails, reads ember_last_error on the same OS
// thread: the message is thread-local and a goroutine may otherwise move between threads.
func call(f func() C.ember_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return statusError(f())
}

// statusError is nil for EMBER_OK, else the error with this thread's ember_last_error
// (the caller holds the OS thread since the failed call).
func statusError(status C.ember_status) error {
	if status == C.EMBER_OK {
		return nil
	}
	return &Error{Status: Status(status), Message: C.GoString(C.ember_last_error())}
}
