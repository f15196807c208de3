package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// synthTiny writes a tiny random model with `rlx synth` and returns its path.
func synthTiny(t *testing.T, arch, typ string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), arch+"-"+typ+".gguf")
	out, err := runLM(t, "synth", "--arch", arch, "--preset", "tiny", "--type", typ, "-o", path, "--seed", "5")
	if err != nil {
		t.Fatal(err, out)
	}
	if !strings.Contains(out, "wrote "+path) {
		t.Fatalf("output %q", out)
	}
	return path
}

func TestSynthCLI(t *testing.T) {
	path := synthTiny(t, "llama", "Q8_0")
	out, err := runLM(t, "inspect", path)
	if err != nil {
		t.Fatal(err, out)
	}
	if !strings.Contains(out, "llama") {
		t.Fatalf("inspect: %s", out)
	}
	for _, bad := range [][]string{
		{"synth", "--arch", "nope", "-o", filepath.Join(t.TempDir(), "x.gguf")},
		{"synth", "--arch", "qwen3", "--preset", "100b", "-o", filepath.Join(t.TempDir(), "x.gguf")},
		{"synth", "--arch", "qwen3", "--type", "Q1_Z", "-o", filepath.Join(t.TempDir(), "x.gguf")},
		{"synth", "--arch", "qwen3"},
	} {
		if out, err := runLM(t, bad...); err == nil {
			t.Errorf("%v succeeded: %s", bad, out)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestBenchLM(t *testing.T) {
	path := synthTiny(t, "qwen3", "Q4_K_M")
	out, err := runLM(t, "bench", "--weights", path, "-p", "8,16", "-n", "4", "-d", "0,5", "-r", "2", "--threads", "1", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var res []lmBenchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var tests []string
	for _, r := range res {
		tests = append(tests, r.Test)
		if len(r.Samples) != 2 || r.MedianTS <= 0 || r.MinTS > r.MedianTS || r.MaxTS < r.MedianTS || r.Threads != 1 {
			t.Errorf("%s: %+v", r.Test, r)
		}
		if r.Family != "qwen3" || r.Params == 0 || r.Size == 0 {
			t.Errorf("%s: model %q params %d size %d", r.Test, r.Family, r.Params, r.Size)
		}
	}
	if got, want := strings.Join(tests, ","), "pp8,pp16,tg4,pp8 @ d5,pp16 @ d5,tg4 @ d5"; got != want {
		t.Fatalf("tests %s, want %s", got, want)
	}
	out, err = runLM(t, "bench", "--weights", path, "-p", "8", "-n", "0", "-d", "0", "-r", "1")
	if err != nil || !strings.Contains(out, "| pp8 ") || strings.Contains(out, "tg") {
		t.Fatalf("table: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{"bench", "--weights", path, "-p", "8", "-n", "4", "-d", "0", "-r", "0"},
		{"bench", "--weights", path, "-p", "16", "-n", "4", "-d", "0", "--max-seq", "10"},
		{"bench", "--weights", filepath.Join(t.TempDir(), "missing.gguf"), "-p", "8", "-n", "4", "-d", "0"},
	} {
		if out, err := runLM(t, bad...); err == nil {
			t.Errorf("%v succeeded: %s", bad, out)
		}
	}
}
