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
// testdata/gguf-lm at the repository root (see its README).
const qwen3Fixture = "../../testdata/gguf-lm"

// llamaRef is the qwen3-f32.gguf case of the fixture's reference.json.
type llamaRef struct {
	Prompt    []int32 // prompt ids
	Generated []int32 // llama.cpp's greedy continuation
	Logits    string  // llama.cpp's logits for the prompt (flash attention, F16 cache)
}

func qwen3Ref(t *testing.T) llamaRef {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(qwen3Fixture, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		PromptIDs []int32 `json:"prompt_ids"`
		Cases     []struct {
			File   string `json:"file"`
			Logits string `json:"logits"`
			Result struct {
				Generated []int32 `json:"generated"`
			} `json:"result"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		if c.File == "qwen3-f32.gguf" {
			return llamaRef{Prompt: ref.PromptIDs, Generated: c.Result.Generated, Logits: c.Logits}
		}
	}
	t.Fatal("reference.json has no qwen3-f32.gguf case")
	return llamaRef{}
}

// idList writes ids as --prompt-ids takes them.
func idList(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}

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
	ref := qwen3Ref(t)
	out, err := runLM(t, "generate", "--weights", filepath.Join(qwen3Fixture, "qwen3-f32.gguf"),
		"--prompt-ids", idList(ref.Prompt), "--max-tokens", fmt.Sprint(len(ref.Generated)), "--greedy", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var res generateJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got, want := fmt.Sprint(res.IDs), fmt.Sprint(ref.Generated); got != want {
		t.Errorf("ids %s, llama.cpp %s", got, want)
	}
	if res.PromptTokens != len(ref.Prompt) || res.Text != "" || res.Stop != "length" || res.Timings.Generated != len(ref.Generated) {
		t.Errorf("unexpected result %+v", res)
	}
}

func TestLogitsNPY(t *testing.T) {
	ref := qwen3Ref(t)
	path := filepath.Join(t.TempDir(), "out.npy")
	if out, err := runLM(t, "logits", "--weights", filepath.Join(qwen3Fixture, "qwen3-f32.gguf"),
		"--prompt-ids", idList(ref.Prompt), "-o", path, "--precision", "f16"); err != nil {
		t.Fatal(err, out)
	}
	header, x := readNPY(t, path)
	want := readF32(t, filepath.Join(qwen3Fixture, ref.Logits))
	shape := fmt.Sprintf("(%d, %d)", len(ref.Prompt), len(want)/len(ref.Prompt))
	if !strings.Contains(header, shape) || !strings.Contains(header, "<f4") || len(x) != len(want) {
		t.Fatalf("header %q, %d values; want shape %s", header, len(x), shape)
	}
	worst := 0.0
	for i := range want {
		worst = max(worst, math.Abs(float64(x[i]-want[i])))
	}
	// llama.cpp's flash attention accumulates in F16 as well: over the
	// 20-position prompt the two F16 paths differ by up to 0.01 (measured 0.0099).
	if worst > 2e-2 {
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

// resetFlags puts every subcommand's flags back to their defaults and its
// streams back to the root's: cobra keeps both between Execute calls in one
// process (rlx auto sets the output of the command it dispatches to).
func resetFlags() {
	for _, c := range rootCmd.Commands() {
		c.SetIn(nil)
		c.SetOut(nil)
		c.SetErr(nil)
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
