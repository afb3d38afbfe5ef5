package ember

/*
#include <stdlib.h>
#include "ember/ember.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// Grammar kinds for SamplerOptions.GrammarKind (EMBER_GRAMMAR_*).
const (
	GrammarNone       = 0
	GrammarGBNF       = 1
	GrammarJSONSchema = 2
	GrammarJSONObject = 3
)

// SamplerOptions says how the next token is picked. Zero values keep ember's defaults
// (greedy, seed 0); TopP 0 means 1 (off), RepeatPenalty 0 means 1 (off) and RepeatLastN 0
// means 64, since those zeros are not useful settings.
type SamplerOptions struct {
	Temperature      float32
	TopK             int32
	TopP             float32
	MinP             float32
	RepeatPenalty    float32
	RepeatLastN      int32
	Seed             uint64
	PresencePenalty  float32
	FrequencyPenalty float32
	LogitBias        map[int32]float32
	GrammarKind      int32 // GrammarNone, GrammarGBNF, GrammarJSONSchema, GrammarJSONObject
	Grammar          string
}

// bytesPtr points C at a Go byte slice's data (nil for an empty one). The slice must stay
// alive during the call; cgo's rules allow it since it holds no Go pointers.
func bytesPtr(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}

func int32Ptr(ids []int32) *C.int32_t {
	if len(ids) == 0 {
		return nil
	}
	return (*C.int32_t)(unsafe.Pointer(&ids[0]))
}

// build makes the C options; the caller frees them with ember_sampler_options_free. Must
// run with the OS thread locked (errors read ember_last_error).
func (s *SamplerOptions) build() (*C.ember_sampler_options, error) {
	var o *C.ember_sampler_options
	if err := statusError(C.ember_sampler_options_create(&o)); err != nil {
		return nil, err
	}
	topP, penalty, lastN := s.TopP, s.RepeatPenalty, s.RepeatLastN
	if topP == 0 {
		topP = 1
	}
	if penalty == 0 {
		penalty = 1
	}
	if lastN == 0 {
		lastN = 64
	}
	steps := []func() C.ember_status{
		func() C.ember_status { return C.ember_sampler_options_set_temperature(o, C.float(s.Temperature)) },
		func() C.ember_status { return C.ember_sampler_options_set_top_k(o, C.int32_t(s.TopK)) },
		func() C.ember_status { return C.ember_sampler_options_set_top_p(o, C.float(topP)) },
		func() C.ember_status { return C.ember_sampler_options_set_min_p(o, C.float(s.MinP)) },
		func() C.ember_status {
			return C.ember_sampler_options_set_repeat_penalty(o, C.float(penalty), C.int32_t(lastN))
		},
		func() C.ember_status { return C.ember_sampler_options_set_seed(o, C.uint64_t(s.Seed)) },
		func() C.ember_status {
			return C.ember_sampler_options_set_presence_penalty(o, C.float(s.PresencePenalty))
		},
		func() C.ember_status {
			return C.ember_sampler_options_set_frequency_penalty(o, C.float(s.FrequencyPenalty))
		},
		func() C.ember_status {
			ids := make([]int32, 0, len(s.LogitBias))
			biases := make([]float32, 0, len(s.LogitBias))
			for id, bias := range s.LogitBias {
				ids = append(ids, id)
				biases = append(biases, bias)
			}
			var biasPtr *C.float
			if len(biases) > 0 {
				biasPtr = (*C.float)(unsafe.Pointer(&biases[0]))
			}
			return C.ember_sampler_options_set_logit_bias(o, int32Ptr(ids), biasPtr, C.size_t(len(ids)))
		},
		func() C.ember_status {
			if s.GrammarKind == GrammarNone {
				return C.EMBER_OK
			}
			text := []byte(s.Grammar)
			return C.ember_sampler_options_set_grammar(o, C.int32_t(s.GrammarKind), bytesPtr(text), C.size_t(len(text)))
		},
	}
	for _, step := range steps {
		if err := statusError(step()); err != nil {
			C.ember_sampler_options_free(o)
			return nil, err
		}
	}
	return o, nil
}

// KV cache element types for SessionOptions.KVType (EMBER_KV_*).
const (
	KVF32  = 0
	KVF16  = 1
	KVBF16 = 2
)

// SessionOptions are a session's settings. Zero values keep ember's defaults.
type SessionOptions struct {
	NCtx             int32
	NThreads         int32
	MaxKVBytes       uint64
	ContextShift     bool
	ContextShiftKeep int32
	KVType           int32
	Sampler          SamplerOptions
}

func (s *SessionOptions) build() (*C.ember_session_options, error) {
	var o *C.ember_session_options
	if err := statusError(C.ember_session_options_create(&o)); err != nil {
		return nil, err
	}
	sampler, err := s.Sampler.build()
	if err != nil {
		C.ember_session_options_free(o)
		return nil, err
	}
	defer C.ember_sampler_options_free(sampler)
	steps := []func() C.ember_status{
		func() C.ember_status {
			if s.NCtx == 0 {
				return C.EMBER_OK
			}
			return C.ember_session_options_set_n_ctx(o, C.int32_t(s.NCtx))
		},
		func() C.ember_status {
			if s.NThreads == 0 {
				return C.EMBER_OK
			}
			return C.ember_session_options_set_n_threads(o, C.int32_t(s.NThreads))
		},
		func() C.ember_status { return C.ember_session_options_set_max_kv_bytes(o, C.uint64_t(s.MaxKVBytes)) },
		func() C.ember_status {
			if !s.ContextShift {
				return C.EMBER_OK
			}
			return C.ember_session_options_set_context_shift(o, 1, C.int32_t(s.ContextShiftKeep))
		},
		func() C.ember_status { return C.ember_session_options_set_kv_type(o, C.int32_t(s.KVType)) },
		func() C.ember_status { return C.ember_session_options_set_sampler(o, sampler) },
	}
	for _, step := range steps {
		if err := statusError(step()); err != nil {
			C.ember_session_options_free(o)
			return nil, err
		}
	}
	return o, nil
}

// Tokenize flags (EMBER_TOKENIZE_*), for Model.Tokenize and GenerateOptions.TokenizeFlags.
const (
	TokenizeDefault      uint32 = 0
	TokenizeAddBOS       uint32 = 1
	TokenizeNoBOS        uint32 = 2
	TokenizeParseSpecial uint32 = 4
)

// GenerateOptions say when a generation stops. MaxTokens 0 means no limit.
type GenerateOptions struct {
	MaxTokens     int32
	IgnoreEOS     bool
	Stop          []string
	StopTokens    []int32
	TokenizeFlags uint32
}

func (g *GenerateOptions) build() (*C.ember_generate_options, error) {
	for _, s := range g.Stop {
		if strings.IndexByte(s, 0) >= 0 {
			return nil, &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf("stop string %q contains a NUL byte", s)}
		}
	}
	var o *C.ember_generate_options
	if err := statusError(C.ember_generate_options_create(&o)); err != nil {
		return nil, err
	}
	// Stop strings go to C as NUL-terminated copies in C memory, freed after the call
	// that copies them.
	stops := make([]*C.char, len(g.Stop))
	for i, s := range g.Stop {
		stops[i] = C.CString(s)
	}
	defer func() {
		for _, p := range stops {
			C.free(unsafe.Pointer(p))
		}
	}()
	cStops := (**C.char)(C.malloc(C.size_t(len(stops)+1) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(cStops))
	copy(unsafe.Slice(cStops, len(stops)+1), stops)
	ignore := C.int32_t(0)
	if g.IgnoreEOS {
		ignore = 1
	}
	steps := []func() C.ember_status{
		func() C.ember_status {
			if g.MaxTokens == 0 {
				return C.EMBER_OK
			}
			return C.ember_generate_options_set_max_tokens(o, C.int32_t(g.MaxTokens))
		},
		func() C.ember_status { return C.ember_generate_options_set_ignore_eos(o, ignore) },
		func() C.ember_status {
			return C.ember_generate_options_set_stop_strings(o, cStops, C.size_t(len(stops)))
		},
		func() C.ember_status {
			return C.ember_generate_options_set_stop_tokens(o, int32Ptr(g.StopTokens), C.size_t(len(g.StopTokens)))
		},
	}
	for _, step := range steps {
		if err := statusError(step()); err != nil {
			C.ember_generate_options_free(o)
			return nil, err
		}
	}
	return o, nil
}
