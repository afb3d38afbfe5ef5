package ember_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ember.local/ember"
)

// The package's plumbing: version, status names, errors with ember's message, handle
// lifetimes, tokenizer, evaluation and sampling, state and chat.

func header(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(sourceRoot(), "include", "ember", "ember.h"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVersionIsTheOneOfCMakeLists(t *testing.T) {
	// project(ember VERSION x.y.z) is the version's one source.
	cmake, err := os.ReadFile(filepath.Join(sourceRoot(), "CMakeLists.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cmake), "\nproject(ember VERSION "+ember.Version()+" ") {
		t.Errorf("version %s is not project(VERSION) of CMakeLists.txt", ember.Version())
	}
	var major, minor, patch int
	if _, err := fmt.Sscanf(ember.Version(), "%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatal(err)
	}
	if ember.VersionNumber() != major*1000000+minor*1000+patch {
		t.Errorf("version number %d", ember.VersionNumber())
	}
	if err := ember.CheckVersion(); err != nil {
		t.Error(err)
	}
}

func TestStatusNamesComeFromTheLibrary(t *testing.T) {
	h := header(t)
	for status := ember.StatusOK; status <= ember.StatusBadState; status++ {
		if !strings.Contains(h, fmt.Sprintf("#define %s %d\n", status.String(), int32(status))) {
			t.Errorf("%d is %s, not as in ember.h", int32(status), status)
		}
	}
	if ember.Status(9999).String() != "EMBER_ERR_UNKNOWN" {
		t.Error(ember.Status(9999).String())
	}
}

func TestErrorsCarryTheStatusAndMessage(t *testing.T) {
	_, err := ember.Load("/nonexistent/model.gguf")
	var e *ember.Error
	if !errors.As(err, &e) || e.Status != ember.StatusIO || !strings.Contains(e.Message, "/nonexistent/model.gguf") {
		t.Fatalf("error %v", err)
	}
	if err.Error() != "EMBER_ERR_IO: "+e.Message || !errors.Is(err, ember.StatusIO) {
		t.Errorf("Error() = %q", err.Error())
	}
	_, err = ember.Load(filepath.Join(sourceRoot(), "bindings", "go", "go.mod"))
	if !ember.IsStatus(err, ember.StatusInvalidModel) || err.(*ember.Error).Message == "" {
		t.Errorf("not a model: %v", err)
	}
}

func TestFactsAndTokenizer(t *testing.T) {
	model := loadStories(t)
	if model.Architecture() != "llama" || model.NVocab() != 512 || model.BOS() != 1 || model.EOS() != 2 {
		t.Errorf("facts %s %d %d %d", model.Architecture(), model.NVocab(), model.BOS(), model.EOS())
	}
	if model.NTokens() <= 0 || model.NTokens() > model.NVocab() || model.NCtxTrain() <= 0 {
		t.Errorf("n_tokens %d, n_ctx_train %d", model.NTokens(), model.NCtxTrain())
	}
	if !model.IsEOG(2) || model.IsEOG(1) {
		t.Error("end-of-generation set")
	}
	ids, err := model.Tokenize(prompt, ember.TokenizeDefault)
	if err != nil || ids[0] != 1 {
		t.Fatalf("tokenize %v, %v", ids, err)
	}
	noBOS, _ := model.Tokenize(prompt, ember.TokenizeNoBOS)
	if fmt.Sprint(noBOS) != fmt.Sprint(ids[1:]) {
		t.Errorf("no BOS: %v vs %v", noBOS, ids)
	}
	// SentencePiece's space marker of the first word is kept (ember.h, ember_detokenize).
	if text, _ := model.DetokenizeBytes(ids, true); string(text) != " "+prompt {
		t.Errorf("detokenize %q", text)
	}
	long := strings.Repeat("a b c ", 200) // more ids than the first buffer guess holds
	longIDs, _ := model.Tokenize(long, ember.TokenizeNoBOS)
	if text, err := model.Detokenize(longIDs); err != nil || text != " "+long {
		t.Errorf("long round trip: %v", err)
	}
	if _, err := model.Detokenize([]int32{100000}); !ember.IsStatus(err, ember.StatusInvalidToken) {
		t.Errorf("bad id: %v", err)
	}
}

func TestBadOptionsAreErrors(t *testing.T) {
	model := loadStories(t)
	_, err := model.NewSession(ember.SessionOptions{Sampler: ember.SamplerOptions{Temperature: -1}})
	if !ember.IsStatus(err, ember.StatusInvalidArgument) || err.(*ember.Error).Message == "" {
		t.Errorf("temperature -1: %v", err)
	}
	_, err = model.NewSession(ember.SessionOptions{Sampler: ember.SamplerOptions{LogitBias: map[int32]float32{100000: 1}}})
	if !ember.IsStatus(err, ember.StatusInvalidToken) {
		t.Errorf("bias id: %v", err)
	}
	_, err = model.NewSession(ember.SessionOptions{Sampler: ember.SamplerOptions{GrammarKind: ember.GrammarGBNF, Grammar: "root ::= ("}})
	if !ember.IsStatus(err, ember.StatusInvalidArgument) || !strings.Contains(err.Error(), "line 1, column") {
		t.Errorf("bad grammar: %v", err)
	}
	if _, err := model.NewSession(ember.SessionOptions{NThreads: -1}); !ember.IsStatus(err, ember.StatusInvalidArgument) {
		t.Errorf("n_threads -1: %v", err)
	}
}

func TestEvalLogitsSampleState(t *testing.T) {
	model := loadStories(t)
	session := newSession(t, model, ember.SessionOptions{NCtx: 64})
	if session.NCtx() != 64 {
		t.Errorf("n_ctx %d", session.NCtx())
	}
	if _, err := session.Logits(); !ember.IsStatus(err, ember.StatusBadState) {
		t.Errorf("logits before eval: %v", err)
	}
	ids, _ := model.Tokenize(prompt, ember.TokenizeDefault)
	nVocab := int(model.NVocab())
	all, err := session.EvalAllLogits(ids, nVocab)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := session.Logits()
	best := 0
	for i, v := range last {
		if all[(len(ids)-1)*nVocab+i] != v {
			t.Fatalf("logit %d differs", i)
		}
		if v > last[best] {
			best = i
		}
	}
	if token, err := session.Sample(); err != nil || int(token) != best { // greedy by default
		t.Errorf("sample %d (best %d), %v", token, best, err)
	}
	if err := session.Eval([]int32{100000}); !ember.IsStatus(err, ember.StatusInvalidToken) {
		t.Errorf("bad id: %v", err)
	}
	if held, _ := session.Tokens(); fmt.Sprint(held) != fmt.Sprint(ids) || session.KVBytes() == 0 {
		t.Errorf("tokens %v", held)
	}
	state, err := session.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	clone, err := session.Clone()
	if err != nil {
		t.Fatal(err)
	}
	defer clone.Close()
	a, _ := session.Generate(bg(), "", ember.GenerateOptions{MaxTokens: 6}, nil)
	b, _ := clone.Generate(bg(), "", ember.GenerateOptions{MaxTokens: 6}, nil)
	if fmt.Sprint(a.Tokens) != fmt.Sprint(b.Tokens) {
		t.Errorf("clone generated %v, original %v", b.Tokens, a.Tokens)
	}
	if err := session.LoadState(state); err != nil || int(session.NPast()) != len(ids) {
		t.Errorf("load state: %v", err)
	}
	if err := session.Truncate(2); err != nil || session.NPast() != 2 {
		t.Errorf("truncate: %v", err)
	}
	if err := session.LoadState([]byte("not a state")); err == nil {
		t.Error("a bad state loaded")
	}
}

func TestHandlesAreFreedOnce(t *testing.T) {
	model, err := ember.Load(storiesPath())
	if err != nil {
		t.Fatal(err)
	}
	session, err := model.NewSession(ember.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	model.Close() // ember keeps the model for its session
	model.Close()
	if _, err := model.Tokenize("x", 0); !ember.IsStatus(err, ember.StatusInvalidArgument) {
		t.Errorf("use after close: %v", err)
	}
	if c, err := session.Generate(bg(), prompt, ember.GenerateOptions{MaxTokens: 3}, nil); err != nil || c.NGenerated != 3 {
		t.Errorf("session after model close: %v", err)
	}
	session.Close()
	session.Close()
	session.Cancel() // a no-op on a closed session
	if _, err := session.Sample(); !ember.IsStatus(err, ember.StatusInvalidArgument) {
		t.Errorf("use after close: %v", err)
	}
}

func TestModelIsSharedByGoroutines(t *testing.T) {
	model := loadStories(t)
	results := make([]string, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			session, err := model.NewSession(ember.SessionOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			defer session.Close()
			c, err := session.Generate(bg(), prompt, ember.GenerateOptions{MaxTokens: 8}, nil)
			if err != nil {
				t.Error(err)
			}
			results[i] = c.Text
		}(i)
	}
	wg.Wait()
	for _, r := range results[1:] {
		if r != results[0] {
			t.Errorf("greedy runs differ: %q vs %q", r, results[0])
		}
	}
}

func TestStateFilesAndPrefixReuse(t *testing.T) {
	model := loadStories(t)
	session := newSession(t, model, ember.SessionOptions{})
	other := newSession(t, model, ember.SessionOptions{})
	ids, _ := model.Tokenize(prompt, ember.TokenizeDefault)
	if reused, err := session.EvalReuse(ids); err != nil || reused != 0 {
		t.Fatalf("first eval_reuse: %d, %v", reused, err)
	}
	next, _ := session.Sample()
	longer := append(append([]int32{}, ids...), next)
	if reused, err := session.EvalReuse(longer); err != nil || reused != len(ids) { // only the new token is evaluated
		t.Fatalf("second eval_reuse: %d, %v", reused, err)
	}
	file := filepath.Join(t.TempDir(), "state.bin")
	if err := session.SaveStateFile(file); err != nil {
		t.Fatal(err)
	}
	if err := other.LoadStateFile(file); err != nil {
		t.Fatal(err)
	}
	held, _ := other.Tokens()
	a, _ := session.Logits()
	b, _ := other.Logits()
	if fmt.Sprint(held) != fmt.Sprint(longer) || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("loaded tokens %v, want %v (or other logits)", held, longer)
	}
	err := other.LoadStateFile(filepath.Join(t.TempDir(), "missing.bin"))
	if !ember.IsStatus(err, ember.StatusIO) || !strings.Contains(err.Error(), "missing.bin") {
		t.Errorf("missing file: %v", err)
	}
}

func TestChatTemplate(t *testing.T) {
	model := loadStories(t)
	template := "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"
	messages := []ember.Message{{Role: "user", Content: "héllo"}}
	if text, err := model.ApplyChat(messages, template, true); err != nil || text != "<user>héllo<assistant>" {
		t.Errorf("chat %q, %v", text, err)
	}
	if text, _ := model.ApplyChat(messages, template, false); text != "<user>héllo" {
		t.Errorf("chat %q", text)
	}
	jsonTemplate := "{{ bos_token }}{{ messages[0].content }}/{{ who }}{% if add_generation_prompt %}>{% endif %}"
	context := `{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true, "who": "x"}`
	if text, err := model.ApplyChatJSON(jsonTemplate, context); err != nil || text != "<s>hi/x>" {
		t.Errorf("chat json %q, %v", text, err)
	}
	if _, err := model.ApplyChatJSON(jsonTemplate, "[]"); !ember.IsStatus(err, ember.StatusInvalidArgument) {
		t.Errorf("a context that is not an object: %v", err)
	}
}
