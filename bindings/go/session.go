package ember

/*
#include <stdlib.h>
#include "ember/ember.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"unsafe"
)

// Why a generation stopped (EMBER_STOP_*), in Completion.StopReason.
const (
	StopNone        = 0
	StopEOS         = 1
	StopString      = 2
	StopMaxTokens   = 3
	StopCallback    = 4
	StopCancelled   = 5
	StopContextFull = 6
	StopToken       = 7
	StopGrammar     = 8
)

// Piece is one streamed piece of a generation: the token id (-1 for the text before a stop
// string, which has no token of its own) and the text it completes (may be empty).
type Piece struct {
	Token int32
	Text  string
}

// Completion is what a generation produced.
type Completion struct {
	Text       string
	Tokens     []int32
	StopReason int32
	NGenerated int32
}

// Session is a KV cache plus sampler state on a model. It must be used by one goroutine
// at a time; Cancel is the exception and may be called from any goroutine.
type Session struct {
	model *Model // keeps the Go model (and its finalizer) away while the session lives

	mu  sync.Mutex // guards ptr between Close and a concurrent Cancel
	ptr *C.ember_session
}

func newSession(ptr *C.ember_session, model *Model) *Session {
	s := &Session{model: model, ptr: ptr}
	runtime.SetFinalizer(s, (*Session).Close)
	return s
}

// Close frees the session; later calls do nothing. Not while another call runs on it.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.ember_session_free(s.ptr)
		s.ptr = nil
		runtime.SetFinalizer(s, nil)
	}
}

// Cancel asks the call running on the session to stop (it then fails with
// StatusCancelled). Ignored when no call runs or the session is closed. Any goroutine.
func (s *Session) Cancel() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		_ = C.ember_session_cancel(s.ptr) // cannot fail for a live session
	}
}

func (s *Session) live() (*C.ember_session, error) {
	if s.ptr == nil {
		return nil, &Error{Status: StatusInvalidArgument, Message: "the session is closed"}
	}
	return s.ptr, nil
}

// run runs one fallible call on the live session, reading a failure's message on the same
// OS thread.
func (s *Session) run(f func(*C.ember_session) C.ember_status) error {
	p, err := s.live()
	if err != nil {
		return err
	}
	return call(func() C.ember_status { return f(p) })
}

// NPast is the number of tokens the session has evaluated.
func (s *Session) NPast() int32 { return int32(C.ember_session_n_past(s.ptr)) }

// NCtx is the session's context size.
func (s *Session) NCtx() int32 { return int32(C.ember_session_n_ctx(s.ptr)) }

// KVBytes is the KV cache memory the session holds.
func (s *Session) KVBytes() uint64 { return uint64(C.ember_session_kv_bytes(s.ptr)) }

// Reset forgets every token and re-seeds the sampler.
func (s *Session) Reset() error {
	return s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_reset(p) })
}

// Eval feeds token ids (a prompt is one call). On error the session is unchanged.
func (s *Session) Eval(tokens []int32) error {
	return s.run(func(p *C.ember_session) C.ember_status {
		return C.ember_session_eval(p, int32Ptr(tokens), C.size_t(len(tokens)), nil, 0)
	})
}

// EvalAllLogits feeds token ids and returns every position's logits, [len(tokens)][nVocab].
func (s *Session) EvalAllLogits(tokens []int32, nVocab int) ([]float32, error) {
	all := make([]float32, len(tokens)*nVocab)
	err := s.run(func(p *C.ember_session) C.ember_status {
		var out *C.float
		if len(all) > 0 {
			out = (*C.float)(unsafe.Pointer(&all[0]))
		}
		return C.ember_session_eval(p, int32Ptr(tokens), C.size_t(len(tokens)), out, C.size_t(len(all)))
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// Logits copies the last position's logits.
func (s *Session) Logits() ([]float32, error) {
	var logits *C.float
	var n C.size_t
	if err := s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_logits(p, &logits, &n) }); err != nil {
		return nil, err
	}
	out := make([]float32, int(n))
	copy(out, unsafe.Slice((*float32)(unsafe.Pointer(logits)), int(n)))
	return out, nil
}

// Sample picks the next token with the session's sampler (not fed back: call Eval).
func (s *Session) Sample() (int32, error) {
	var token C.int32_t
	err := s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_sample(p, &token) })
	return int32(token), err
}

// SetSampler replaces the sampler; the tokens and cache stay.
func (s *Session) SetSampler(sampler SamplerOptions) error {
	p, err := s.live()
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o, err := sampler.build()
	if err != nil {
		return err
	}
	defer C.ember_sampler_options_free(o)
	return statusError(C.ember_session_set_sampler(p, o))
}

// Tokens gives the token ids the session holds.
func (s *Session) Tokens() ([]int32, error) {
	ids := make([]int32, s.NPast())
	var n C.size_t
	err := s.run(func(p *C.ember_session) C.ember_status {
		return C.ember_session_tokens(p, int32Ptr(ids), C.size_t(len(ids)), &n)
	})
	if err != nil {
		return nil, err
	}
	return ids[:int(n)], nil
}

// Truncate keeps the first nKeep tokens.
func (s *Session) Truncate(nKeep int32) error {
	return s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_truncate(p, C.int32_t(nKeep)) })
}

// Clone makes an independent copy (tokens, cache, sampler state) on the same model.
func (s *Session) Clone() (*Session, error) {
	var out *C.ember_session
	if err := s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_clone(p, &out) }); err != nil {
		return nil, err
	}
	return newSession(out, s.model), nil
}

// SaveState gives the session's state as bytes for LoadState.
func (s *Session) SaveState() ([]byte, error) {
	var size C.size_t
	err := s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_state_save(p, nil, 0, &size) })
	if err != nil && !IsStatus(err, StatusBufferTooSmall) {
		return nil, err
	}
	buf := make([]byte, int(size))
	err = s.run(func(p *C.ember_session) C.ember_status {
		return C.ember_session_state_save(p, unsafe.Pointer(bytesPtr(buf)), C.size_t(len(buf)), &size)
	})
	if err != nil {
		return nil, err
	}
	return buf[:int(size)], nil
}

// LoadState restores a state from SaveState.
func (s *Session) LoadState(state []byte) error {
	return s.run(func(p *C.ember_session) C.ember_status {
		return C.ember_session_state_load(p, unsafe.Pointer(bytesPtr(state)), C.size_t(len(state)))
	})
}

// SaveStateFile writes SaveState's bytes to path atomically (the old file stays whole on
// failure).
func (s *Session) SaveStateFile(path string) error {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	return s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_state_save_file(p, cPath) })
}

// LoadStateFile restores a state from a file written by SaveStateFile.
func (s *Session) LoadStateFile(path string) error {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	return s.run(func(p *C.ember_session) C.ember_status { return C.ember_session_state_load_file(p, cPath) })
}

// EvalReuse makes the session hold exactly ids, keeping the longest common prefix and
// evaluating only the rest; it returns how many tokens were kept.
func (s *Session) EvalReuse(ids []int32) (int, error) {
	var reused C.size_t
	err := s.run(func(p *C.ember_session) C.ember_status {
		return C.ember_session_eval_reuse(p, int32Ptr(ids), C.size_t(len(ids)), &reused)
	})
	return int(reused), err
}

// stream collects one generation and forwards its pieces to the caller's function. A panic
// there must not unwind through C: it is caught, generation stops, and it is re-raised
// once the C call has returned.
type stream struct {
	ctx        context.Context
	cancel     func() // cancels the session's running call
	onPiece    func(Piece) bool
	completion Completion
	panicked   interface{}
	didPanic   bool
}

func (s *stream) deliver(piece Piece) (goOn bool) {
	s.completion.Text += piece.Text
	if piece.Token >= 0 {
		s.completion.Tokens = append(s.completion.Tokens, piece.Token)
	}
	defer func() {
		if r := recover(); r != nil {
			s.panicked, s.didPanic, goOn = r, true, false
		}
		// A context done by now cancels here, on the generating thread, so the call stops
		// right after this piece (the watcher goroutine covers the time between pieces).
		if goOn && s.ctx.Err() != nil {
			s.cancel()
		}
	}()
	if s.onPiece == nil {
		return true
	}
	return s.onPiece(piece)
}

// Generate tokenizes and evaluates prompt, then generates until a stop condition of
// options, calling onPiece (may be nil) with each piece as it comes; onPiece returns false
// to stop after that piece. Cancelling ctx cancels the generation. A cancelled or
// context-full generation returns an *Error whose Partial holds what it produced.
func (s *Session) Generate(ctx context.Context, prompt string, options GenerateOptions, onPiece func(Piece) bool) (Completion, error) {
	if err := ctx.Err(); err != nil {
		return Completion{}, err
	}
	p, err := s.live()
	if err != nil {
		return Completion{}, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o, err := options.build()
	if err != nil {
		return Completion{}, err
	}
	defer C.ember_generate_options_free(o)

	// Cancel on ctx while the call runs; the watcher is gone before Generate returns, so a
	// late cancel can never hit the session's next call.
	finished := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		select {
		case <-ctx.Done():
			s.Cancel()
		case <-finished:
		}
	}()
	st := &stream{ctx: ctx, cancel: func() { _ = C.ember_session_cancel(p) }, onPiece: onPiece}
	nGenerated, stopReason, err := generateEx(p, []byte(prompt), options.TokenizeFlags, o, st)
	close(finished)
	<-watcherDone
	if st.didPanic {
		panic(st.panicked)
	}
	completion := st.completion
	completion.NGenerated, completion.StopReason = nGenerated, stopReason
	if err != nil {
		e := err.(*Error)
		e.Partial = &completion
		return completion, e
	}
	return completion, nil
}
