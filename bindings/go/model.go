package ember

/*
#include <stdlib.h>
#include "ember/ember.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Model is a loaded model: immutable, safe for concurrent use by any number of goroutines
// and sessions.
type Model struct {
	mu  sync.RWMutex // guards ptr against Close while another goroutine reads the model
	ptr *C.ember_model
}

// Load weight formats (EMBER_WEIGHTS_*) for LoadWith.
const (
	WeightsAsStored = 0
	WeightsQ8_0     = 1
	WeightsQ4_0     = 2
)

// Load loads a GGUF file or a Hugging Face model directory.
func Load(path string) (*Model, error) { return LoadWith(path, WeightsAsStored) }

// LoadWith loads, converting float weights to weightFormat (WeightsQ8_0, WeightsQ4_0).
func LoadWith(path string, weightFormat int32) (*Model, error) {
	if err := CheckVersion(); err != nil {
		return nil, err
	}
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var options *C.ember_model_options
	if err := statusError(C.ember_model_options_create(&options)); err != nil {
		return nil, err
	}
	defer C.ember_model_options_free(options)
	if err := statusError(C.ember_model_options_set_weight_format(options, C.int32_t(weightFormat))); err != nil {
		return nil, err
	}
	var ptr *C.ember_model
	if err := statusError(C.ember_model_load(cPath, options, &ptr)); err != nil {
		return nil, err
	}
	m := &Model{ptr: ptr}
	runtime.SetFinalizer(m, (*Model).Close)
	return m, nil
}

// Close frees the model; later calls do nothing. Sessions made from it stay usable: ember
// releases the model with its last session.
func (m *Model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr != nil {
		C.ember_model_free(m.ptr)
		m.ptr = nil
		runtime.SetFinalizer(m, nil)
	}
}

// with runs f on the live model, or fails if it is closed.
func (m *Model) with(f func(*C.ember_model) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.ptr == nil {
		return &Error{Status: StatusInvalidArgument, Message: "the model is closed"}
	}
	return f(m.ptr)
}

// fact reads an int32 fact; for a closed model ember gets NULL and answers 0 or -1 (ember.h).
func (m *Model) fact(f func(*C.ember_model) C.int32_t) int32 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return int32(f(m.ptr)) // a NULL model gives ember's documented 0 / -1
}

func (m *Model) NVocab() int32 {
	return m.fact(func(p *C.ember_model) C.int32_t { return C.ember_model_n_vocab(p) })
}
func (m *Model) NTokens() int32 {
	return m.fact(func(p *C.ember_model) C.int32_t { return C.ember_model_n_tokens(p) })
}
func (m *Model) NCtxTrain() int32 {
	return m.fact(func(p *C.ember_model) C.int32_t { return C.ember_model_n_ctx_train(p) })
}

// BOS is the BOS token id, or -1 if the model has none.
func (m *Model) BOS() int32 {
	return m.fact(func(p *C.ember_model) C.int32_t { return C.ember_model_token_bos(p) })
}

// EOS is the EOS token id, or -1 if the model has none.
func (m *Model) EOS() int32 {
	return m.fact(func(p *C.ember_model) C.int32_t { return C.ember_model_token_eos(p) })
}
func (m *Model) AddsBOS() bool {
	return m.fact(func(p *C.ember_model) C.int32_t { return C.ember_model_adds_bos(p) }) != 0
}

// IsEOG reports whether sampling token ends a generation.
func (m *Model) IsEOG(token int32) bool {
	return m.fact(func(p *C.ember_model) C.int32_t { return C.ember_model_token_is_eog(p, C.int32_t(token)) }) != 0
}

func (m *Model) Architecture() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return C.GoString(C.ember_model_architecture(m.ptr))
}

// ChatTemplate is the model's own chat template ("" if none).
func (m *Model) ChatTemplate() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return C.GoString(C.ember_model_chat_template(m.ptr))
}

// Tokenize gives the token ids of text (flags: Tokenize*).
func (m *Model) Tokenize(text string, flags uint32) ([]int32, error) {
	bytes := []byte(text)
	ids := make([]int32, len(bytes)+2)
	var needed C.size_t
	err := m.with(func(p *C.ember_model) error {
		fill := func() error {
			return call(func() C.ember_status {
				return C.ember_tokenize(p, bytesPtr(bytes), C.size_t(len(bytes)), C.uint32_t(flags),
					int32Ptr(ids), C.size_t(len(ids)), &needed)
			})
		}
		err := fill()
		if IsStatus(err, StatusBufferTooSmall) {
			ids = make([]int32, int(needed))
			err = fill()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids[:int(needed)], nil
}

// DetokenizeBytes gives the bytes token ids spell (they may split a UTF-8 character).
func (m *Model) DetokenizeBytes(tokens []int32, skipSpecial bool) ([]byte, error) {
	flags := C.uint32_t(0)
	if skipSpecial {
		flags = 1
	}
	text := make([]byte, len(tokens)*8+16)
	var needed C.size_t
	err := m.with(func(p *C.ember_model) error {
		fill := func() error {
			return call(func() C.ember_status {
				return C.ember_detokenize(p, int32Ptr(tokens), C.size_t(len(tokens)), flags, bytesPtr(text),
					C.size_t(len(text)), &needed)
			})
		}
		err := fill()
		if IsStatus(err, StatusBufferTooSmall) {
			text = make([]byte, int(needed))
			err = fill()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return text[:int(needed)], nil
}

// Detokenize gives the text token ids spell (ill-formed UTF-8 becomes U+FFFD when ranged over).
func (m *Model) Detokenize(tokens []int32) (string, error) {
	b, err := m.DetokenizeBytes(tokens, false)
	return string(b), err
}

// Message is one chat message for ApplyChat.
type Message struct {
	Role    string
	Content string
}

// ApplyChat renders messages with the model's chat template, or with template if not "".
func (m *Model) ApplyChat(messages []Message, template string, addGenerationPrompt bool) (string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var chat *C.ember_chat
	if err := statusError(C.ember_chat_create(&chat)); err != nil {
		return "", err
	}
	defer C.ember_chat_free(chat)
	for _, msg := range messages {
		role, content := []byte(msg.Role), []byte(msg.Content)
		if err := statusError(C.ember_chat_add(chat, bytesPtr(role), C.size_t(len(role)), bytesPtr(content),
			C.size_t(len(content)))); err != nil {
			return "", err
		}
	}
	source := []byte(template)
	flags := C.uint32_t(0)
	if addGenerationPrompt {
		flags = 1
	}
	text := make([]byte, 4096)
	var needed C.size_t
	err := m.with(func(p *C.ember_model) error {
		fill := func() error {
			return statusError(C.ember_chat_apply(p, chat, bytesPtr(source), C.size_t(len(source)), flags,
				bytesPtr(text), C.size_t(len(text)), &needed))
		}
		err := fill()
		if IsStatus(err, StatusBufferTooSmall) {
			text = make([]byte, int(needed))
			err = fill()
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return string(text[:int(needed)]), nil
}

// ApplyChatJSON renders a template with a whole JSON context (messages, tools,
// add_generation_prompt, ...; bos_token/eos_token come from the model unless the context has
// them). An empty template uses the model's own.
func (m *Model) ApplyChatJSON(template string, contextJSON string) (string, error) {
	source, context := []byte(template), []byte(contextJSON)
	text := make([]byte, 4096)
	var needed C.size_t
	err := m.with(func(p *C.ember_model) error {
		fill := func() error {
			return call(func() C.ember_status {
				return C.ember_chat_apply_json(p, bytesPtr(source), C.size_t(len(source)), bytesPtr(context),
					C.size_t(len(context)), bytesPtr(text), C.size_t(len(text)), &needed)
			})
		}
		err := fill()
		if IsStatus(err, StatusBufferTooSmall) {
			text = make([]byte, int(needed))
			err = fill()
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return string(text[:int(needed)]), nil
}

// NewSession creates a session on the model.
func (m *Model) NewSession(options SessionOptions) (*Session, error) {
	var ptr *C.ember_session
	err := m.with(func(p *C.ember_model) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		o, err := options.build()
		if err != nil {
			return err
		}
		defer C.ember_session_options_free(o)
		return statusError(C.ember_session_create(p, o, &ptr))
	})
	if err != nil {
		return nil, err
	}
	return newSession(ptr, m), nil
}

// IsStatus reports whether err is an *Error with the given status.
func IsStatus(err error, status Status) bool {
	e, ok := err.(*Error)
	return ok && e.Status == status
}
