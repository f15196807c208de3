package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/rlx-go/rlx"
)

// TestSamplingFlags: generate's sampling flags reach the sampler as the
// library's options of the same names: the command's sampled ids are
// GenerateIDs' with the same seed, temperature, top-k, top-p and min-p, and
// --greedy overrides --temp.
func TestSamplingFlags(t *testing.T) {
	path := synthTiny(t, "llama", "Q8_0")
	prompt := []int32{1, 2, 3}
	cli := func(extra ...string) []int32 {
		t.Helper()
		args := append([]string{"generate", "--weights", path, "--prompt-ids", "1,2,3", "--max-tokens", "12", "--ignore-eos", "--json"}, extra...)
		out, err := runLM(t, args...)
		if err != nil {
			t.Fatal(err, out)
		}
		var res generateJSON
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return res.IDs
	}
	lm, err := rlx.OpenLM(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	lib := func(opts ...rlx.GenerateOption) []int32 {
		t.Helper()
		res, err := lm.GenerateIDs(context.Background(), prompt, append(opts, rlx.MaxTokens(12), rlx.IgnoreEOS())...)
		if err != nil {
			t.Fatal(err)
		}
		return res.IDs
	}
	sampled := cli("--temp", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", "7")
	if want := lib(rlx.Temperature(1.5), rlx.TopK(0), rlx.TopP(1), rlx.MinP(0), rlx.Seed(7)); !slices.Equal(sampled, want) {
		t.Errorf("sampled: command %v, library %v", sampled, want)
	}
	greedy := cli("--temp", "1.5", "--seed", "7", "--greedy")
	if want := lib(rlx.Greedy()); !slices.Equal(greedy, want) {
		t.Errorf("greedy: command %v, library %v", greedy, want)
	}
	if slices.Equal(sampled, greedy) {
		t.Errorf("sampling at temperature 1.5 gave the greedy ids %v", greedy)
	}
}
