package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// The tiny qwen3 GGUF and llama.cpp's greedy ids and logits for it come from
// models/qwen3/testdata/gguf (see its README).
const qwen3Fixture = "../../models/qwen3/testdata/gguf"

func runLM(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	defer resetFlags()
	err := rootCmd.Execute()
	return out.String(), err
}

func TestGenerateGreedyJSON(t *testing.T) {
	out, err := runLM(t, "generate", "--weights", filepath.Join(qwen3Fixture, "qwen3-f32.gguf"),
		"--prompt-ids", "1,5,9,42,100,7,300,2,77,480,11,64", "--max-tokens", "8", "--greedy", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var res generateJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// llama.cpp's greedy continuation (reference.json).
	if got, want := fmt.Sprint(res.IDs), "[183 36 141 482 220 306 306 306]"; got != want {
		t.Errorf("ids %s, llama.cpp %s", got, want)
	}
	if res.PromptTokens != 12 || res.Text != "" || res.Stop != "length" || res.Timings.Generated != 8 {
		t.Errorf("unexpected result %+v", res)
	}
}

func TestLogitsNPY(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.npy")
	if out, err := runLM(t, "logits", "--weights", filepath.Join(qwen3Fixture, "qwen3-f32.gguf"),
		"--prompt-ids", "1,5,9,42,100,7,300,2,77,480,11,64", "-o", path, "--precision", "f16"); err != nil {
		t.Fatal(err, out)
	}
	header, x := readNPY(t, path)
	if !strings.Contains(header, "(12, 512)") || !strings.Contains(header, "<f4") {
		t.Fatalf("header %q", header)
	}
	want := readF32(t, filepath.Join(qwen3Fixture, "qwen3-f32.logits.f32"))
	worst := 0.0
	for i := range want {
		worst = max(worst, math.Abs(float64(x[i]-want[i])))
	}
	if worst > 1e-2 {
		t.Errorf("logits differ from llama.cpp's by %g", worst)
	}
}

func TestLMCommandErrors(t *testing.T) {
	w := filepath.Join(qwen3Fixture, "qwen3-f32.gguf")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "--prompt-ids", "1,2"}, "--weights"},
		{[]string{"generate", "--weights", w}, "--prompt"},
		{[]string{"generate", "--weights", w, "--prompt", "hi"}, "no tokenizer"},
		{[]string{"generate", "--weights", w, "--prompt-ids", "1,x"}, `"x"`},
		{[]string{"generate", "--weights", w, "--prompt-ids", "1,99999"}, "outside the vocabulary"},
		{[]string{"generate", "--weights", w, "--prompt-ids", "1,2,3,4,5", "--max-seq", "4"}, "context"},
		{[]string{"logits", "--weights", w, "--prompt-ids", "1,2"}, "-o"},
	} {
		out, err := runLM(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rlx %v: %v (want an error mentioning %s) %s", tc.args, err, tc.want, out)
		}
	}
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// resetFlags puts every subcommand's flags back to their defaults: cobra
// keeps values between Execute calls in one process.
func resetFlags() {
	for _, c := range rootCmd.Commands() {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				_ = sv.Replace(nil)
			} else {
				_ = f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
	}
}
