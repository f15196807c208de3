package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func runWithInput(t *testing.T, input string, args ...string) (string, error) {
	t.Helper()
	rootCmd.SetIn(strings.NewReader(input))
	defer rootCmd.SetIn(nil)
	return runLM(t, args...)
}

// Piped chat: replies stream to stdout one per user line, /reset forgets
// the conversation (the same greedy reply comes again), /exit stops.
func TestChatPiped(t *testing.T) {
	path := synthTiny(t, "qwen3", "F16")
	out, err := runWithInput(t, "hello there\n\n/reset\nhello there\n/exit\nnot read\n",
		"chat", "--weights", path, "--greedy", "--max-tokens", "6")
	if err != nil {
		t.Fatal(err, out)
	}
	before, after, ok := strings.Cut(out, "(conversation reset)\n")
	if !ok {
		t.Fatalf("no reset notice: %q", out)
	}
	if before != after {
		t.Fatalf("after /reset the greedy reply differs: %q vs %q", before, after)
	}
	if !strings.HasSuffix(after, "\n") {
		t.Fatalf("reply not ended: %q", after)
	}
	// Without /reset the second turn sees the first: its prompt is longer,
	// and the session ran only the new tokens (checked in package rlx); here
	// it must simply work and print two replies.
	out, err = runWithInput(t, "a\nb\n", "chat", "--weights", path, "--greedy", "--max-tokens", "3", "--system", "be terse")
	if err != nil {
		t.Fatal(err, out)
	}
}

func TestChatErrors(t *testing.T) {
	if out, err := runWithInput(t, "x\n", "chat"); err == nil {
		t.Fatalf("no --weights accepted: %s", out)
	}
	// A GGUF without a tokenizer cannot chat.
	if out, err := runWithInput(t, "x\n", "chat", "--weights", filepath.Join(qwen3Fixture, "qwen3-f32.gguf")); err == nil {
		t.Fatalf("model without tokenizer accepted: %s", out)
	}
}

func TestAuto(t *testing.T) {
	path := synthTiny(t, "llama", "Q8_0")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{path}, "rlx chat --weights " + path},
		{[]string{path, "--prompt", "hi"}, "rlx generate --weights " + path + " --prompt hi"},
		{[]string{path, "--prompt-ids=1,2"}, "rlx generate --weights " + path + " --prompt-ids=1,2"},
		{[]string{"../../testdata/speech.wav", "--json"}, "rlx vad ../../testdata/speech.wav --json"},
	} {
		out, err := runLM(t, append([]string{"auto", "--dry-run"}, c.args...)...)
		if err != nil || strings.TrimSpace(out) != c.want {
			t.Errorf("auto %v: %q, %v; want %q", c.args, out, err, c.want)
		}
	}
	out, err := runLM(t, "auto", path, "--prompt-ids", "1,2,3", "--max-tokens", "3", "--greedy", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var res generateJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.PromptTokens != 3 {
		t.Fatalf("%v: %s", err, out)
	}
	// A WAV goes to the VAD, with the caller's flags.
	out, err = runLM(t, "auto", "../../testdata/speech.wav", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var vj vadJSON
	if err := json.Unmarshal([]byte(out), &vj); err != nil || len(vj.Segments) == 0 {
		t.Fatalf("vad via auto: %v: %s", err, out)
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.gguf"), "../../go.mod"} {
		if out, err := runLM(t, "auto", "--dry-run", bad); err == nil {
			t.Errorf("auto %s: %s", bad, out)
		}
	}
}
