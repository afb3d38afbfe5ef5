package ember_test

import (
	"context"
	"errors"
	"testing"

	"ember.local/ember"
)

// Generation: the same tokens as the `ember generate` CLI for the same seed, streaming,
// early stops, cancellation through a context and from another goroutine, panics.

func TestMatchesTheCLI(t *testing.T) {
	model := loadStories(t)
	for _, c := range []struct {
		seed      uint64
		maxTokens int
		stop      string
	}{{7, 48, ""}, {123, 64, "."}} {
		cli := cliGenerate(t, c.seed, c.maxTokens, c.stop)
		session := newSession(t, model, ember.SessionOptions{NThreads: 1, Sampler: cliSampler(c.seed)})
		options := ember.GenerateOptions{MaxTokens: int32(c.maxTokens)}
		if c.stop != "" {
			options.Stop = []string{c.stop}
		}
		streamed := ""
		completion, err := session.Generate(context.Background(), prompt, options, func(p ember.Piece) bool {
			streamed += p.Text
			return true
		})
		if err != nil {
			t.Fatalf("seed %d: %v", c.seed, err)
		}
		if completion.Text != cli.Text || streamed != cli.Text {
			t.Errorf("seed %d: text %q (streamed %q), CLI %q", c.seed, completion.Text, streamed, cli.Text)
		}
		if completion.NGenerated != cli.CompletionTokens || int32(len(completion.Tokens)) != cli.CompletionTokens {
			t.Errorf("seed %d: %d tokens (%d ids), CLI %d", c.seed, completion.NGenerated, len(completion.Tokens),
				cli.CompletionTokens)
		}
		if len(completion.Tokens) <= 5 {
			t.Errorf("seed %d: only %d tokens", c.seed, len(completion.Tokens))
		}
		want := int32(ember.StopMaxTokens)
		if c.stop != "" {
			want = ember.StopString
		} else if text, _ := model.Detokenize(completion.Tokens); text != cli.Text {
			t.Errorf("seed %d: the ids spell %q, not the CLI's text", c.seed, text)
		}
		if completion.StopReason != want {
			t.Errorf("seed %d: stop reason %d, want %d", c.seed, completion.StopReason, want)
		}
	}
}

func TestFalseStopsAfterThatPiece(t *testing.T) {
	session := newSession(t, loadStories(t), ember.SessionOptions{})
	seen := 0
	completion, err := session.Generate(context.Background(), prompt, ember.GenerateOptions{MaxTokens: 100, IgnoreEOS: true},
		func(ember.Piece) bool { seen++; return seen < 3 })
	if err != nil {
		t.Fatal(err)
	}
	if completion.StopReason != ember.StopCallback || completion.NGenerated != 3 || session.NPast() != 5+3 {
		t.Errorf("stop %d, %d generated, n_past %d", completion.StopReason, completion.NGenerated, session.NPast())
	}
}

func TestContextCancelsTheGeneration(t *testing.T) {
	session := newSession(t, loadStories(t), ember.SessionOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	completion, err := session.Generate(ctx, prompt, ember.GenerateOptions{MaxTokens: 200, IgnoreEOS: true},
		func(ember.Piece) bool {
			n++
			if n == 2 {
				cancel()
				<-ctx.Done()
			}
			return true
		})
	var e *ember.Error
	if !errors.As(err, &e) || e.Status != ember.StatusCancelled || !errors.Is(err, ember.StatusCancelled) {
		t.Fatalf("error %v, want EMBER_ERR_CANCELLED", err)
	}
	if e.Status.String() != "EMBER_ERR_CANCELLED" || e.Message == "" {
		t.Errorf("status name %q, message %q", e.Status.String(), e.Message)
	}
	if e.Partial == nil || e.Partial.StopReason != ember.StopCancelled || completion.NGenerated >= 200 {
		t.Errorf("partial %+v", e.Partial)
	}
	if session.NPast() != 5+completion.NGenerated {
		t.Errorf("n_past %d after %d generated", session.NPast(), completion.NGenerated)
	}
	// A cancelled context fails the next call at once, and the session is fine for a new one.
	if _, err := session.Generate(ctx, "", ember.GenerateOptions{MaxTokens: 1}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("generate with a done context: %v", err)
	}
	more, err := session.Generate(context.Background(), " The end", ember.GenerateOptions{MaxTokens: 4}, nil)
	if err != nil || more.NGenerated != 4 {
		t.Errorf("after cancel: %+v, %v", more, err)
	}
}

func TestCancelFromAnotherGoroutine(t *testing.T) {
	session := newSession(t, loadStories(t), ember.SessionOptions{})
	n := 0
	_, err := session.Generate(context.Background(), prompt, ember.GenerateOptions{MaxTokens: 200, IgnoreEOS: true},
		func(ember.Piece) bool {
			n++
			if n == 1 {
				done := make(chan struct{})
				go func() { session.Cancel(); close(done) }()
				<-done // the call is still running: the cancel takes effect
			}
			return true
		})
	if !ember.IsStatus(err, ember.StatusCancelled) {
		t.Fatalf("error %v", err)
	}
	if partial := err.(*ember.Error).Partial; partial.NGenerated != 1 {
		t.Errorf("%d generated", partial.NGenerated)
	}
}

func TestContextFullKeepsTheTokens(t *testing.T) {
	session := newSession(t, loadStories(t), ember.SessionOptions{NCtx: 16})
	_, err := session.Generate(context.Background(), prompt, ember.GenerateOptions{MaxTokens: 100, IgnoreEOS: true}, nil)
	e, ok := err.(*ember.Error)
	if !ok || e.Status != ember.StatusContextFull || e.Message == "" || e.Partial.StopReason != ember.StopContextFull {
		t.Fatalf("error %v", err)
	}
	if e.Error() != "EMBER_ERR_CONTEXT_FULL: "+e.Message {
		t.Errorf("Error() = %q", e.Error())
	}
	if session.NPast() != 16 {
		t.Errorf("n_past %d", session.NPast())
	}
}

func TestPanicInTheCallbackResumesAfterTheCall(t *testing.T) {
	session := newSession(t, loadStories(t), ember.SessionOptions{})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v", r)
			}
		}()
		_, _ = session.Generate(context.Background(), prompt, ember.GenerateOptions{MaxTokens: 10},
			func(ember.Piece) bool { panic("boom") })
		t.Error("no panic")
	}()
	if session.NPast() != 6 { // the prompt and the token whose callback panicked
		t.Errorf("n_past %d", session.NPast())
	}
}

func TestStopTokensAndGrammar(t *testing.T) {
	model := loadStories(t)
	grammar := ember.SamplerOptions{GrammarKind: ember.GrammarGBNF, Grammar: `root ::= "yes" | "no"`}
	session := newSession(t, model, ember.SessionOptions{Sampler: grammar})
	answer, err := session.Generate(context.Background(), "Answer:", ember.GenerateOptions{MaxTokens: 10}, nil)
	if err != nil || (answer.Text != "yes" && answer.Text != "no") {
		t.Fatalf("answer %q, %v", answer.Text, err)
	}
	if err := session.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := session.SetSampler(ember.SamplerOptions{}); err != nil {
		t.Fatal(err)
	}
	free, _ := session.Generate(context.Background(), prompt, ember.GenerateOptions{MaxTokens: 8}, nil)
	_ = session.Reset()
	stopped, err := session.Generate(context.Background(), prompt,
		ember.GenerateOptions{MaxTokens: 8, StopTokens: []int32{free.Tokens[2]}}, nil)
	if err != nil || len(stopped.Tokens) != 2 || stopped.Tokens[0] != free.Tokens[0] || stopped.Tokens[1] != free.Tokens[1] ||
		stopped.StopReason != ember.StopToken {
		t.Errorf("stopped %+v (free %v), %v", stopped, free.Tokens, err)
	}
	if _, err := session.Generate(context.Background(), prompt, ember.GenerateOptions{Stop: []string{"a\x00b"}}, nil); !ember.IsStatus(err, ember.StatusInvalidArgument) {
		t.Errorf("NUL in a stop string: %v", err)
	}
}
