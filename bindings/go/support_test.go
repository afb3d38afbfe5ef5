package ember_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"ember.local/ember"
)

// Shared setup of the package's tests: the test data and the `ember` CLI (ctest passes
// EMBER_TEST_DATA_DIR and EMBER_CLI; without them, the source tree's).

const prompt = "Once upon a time"

func sourceRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func storiesPath() string {
	data := os.Getenv("EMBER_TEST_DATA_DIR")
	if data == "" {
		data = filepath.Join(sourceRoot(), "tests", "data")
	}
	return filepath.Join(data, "models", "stories260K.gguf")
}

func loadStories(t *testing.T) *ember.Model {
	t.Helper()
	model, err := ember.Load(storiesPath())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(model.Close)
	return model
}

func newSession(t *testing.T, model *ember.Model, options ember.SessionOptions) *ember.Session {
	t.Helper()
	session, err := model.NewSession(options)
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	t.Cleanup(session.Close)
	return session
}

// cliSampler is the sampler of the CLI comparisons: every flag the CLI gets, the binding
// gets too.
func cliSampler(seed uint64) ember.SamplerOptions {
	return ember.SamplerOptions{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1,
		RepeatLastN: 64, Seed: seed}
}

type cliResult struct {
	Text             string `json:"text"`
	StopReason       string `json:"stop_reason"`
	CompletionTokens int32  `json:"completion_tokens"`
}

// cliGenerate runs `ember generate --output json` on the bundled model.
func cliGenerate(t *testing.T, seed uint64, maxTokens int, stop string) cliResult {
	t.Helper()
	cli := os.Getenv("EMBER_CLI")
	if cli == "" {
		cli = filepath.Join(sourceRoot(), "build", "cli", "ember")
	}
	args := []string{"generate", "-m", storiesPath(), "-p", prompt, "-n", fmt.Sprint(maxTokens),
		"--seed", fmt.Sprint(seed), "--temp", "0.8", "--top-k", "40", "--top-p", "0.95", "--min-p", "0.05",
		"--repeat-penalty", "1.1", "--repeat-last-n", "64", "-t", "1", "--output", "json"}
	if stop != "" {
		args = append(args, "--stop", stop)
	}
	out, err := exec.Command(cli, args...).Output()
	if err != nil {
		t.Fatalf("ember %v: %v", args, err)
	}
	var r cliResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("CLI output %q: %v", out, err)
	}
	return r
}

func bg() context.Context { return context.Background() }
