package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/models/qwen3"
	"github.com/rlx-go/rlx/runtime"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// The tiny random Qwen3 of models/qwen3/testdata/hf (HF transformers made
// its reference: greedy continuation of prompt is greedyRef).
var (
	prompt    = []int32{73, 92, 479, 386, 330, 199, 509, 327, 208, 454, 219, 321}
	greedyRef = []int32{154, 203, 483, 483, 483, 483, 483, 483, 483, 483, 483, 196, 196, 196, 196, 196}
)

func newLM(t testing.TB, o runtime.Options) *runtime.LM {
	t.Helper()
	m, err := weights.Open("../models/qwen3/testdata/hf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cfg, err := os.ReadFile("../models/qwen3/testdata/hf/config.json")
	if err != nil {
		t.Fatal(err)
	}
	model, err := qwen3.Open(nn.Source{Weights: m, HFConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	lm, err := runtime.New(model, cpu.New(cpu.Options{}), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lm.Close)
	return lm
}

// idText decodes id n as "<n>", so stop strings can be placed exactly.
type idText struct{}

func (idText) Add(id int32) (string, error) { return fmt.Sprintf("<%d>", id), nil }
func (idText) Flush() (string, error)       { return "", nil }

func TestGreedyF16CacheAndChunking(t *testing.T) {
	ctx := context.Background()
	for _, o := range []runtime.Options{{MaxSeq: 40}, {MaxSeq: 40, KV: tensor.F32, PrefillChunk: 1}, {MaxSeq: 40, PrefillChunk: 7}} {
		lm := newLM(t, o)
		res, err := lm.Generate(ctx, prompt, runtime.GenerateOptions{MaxTokens: 16, IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.IDs) != fmt.Sprint(greedyRef) || res.Stop != runtime.StopLength || res.PromptTokens != 12 {
			t.Errorf("%+v: %v %s, want %v", o, res.IDs, res.Stop, greedyRef)
		}
	}
}

func TestStopStringsAndStreaming(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 40})
	var pieces []string
	res, err := lm.Generate(context.Background(), prompt, runtime.GenerateOptions{
		MaxTokens: 16, Decoder: idText{}, StopStrings: []string{"3><483><4"},
		OnToken: func(tk runtime.Token) error { pieces = append(pieces, tk.Text); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	// <154><203><483><483>: the stop string starts inside the second token and ends in the fourth.
	if res.Text != "<154><20" || res.Stop != runtime.StopString {
		t.Errorf("text %q stop %s", res.Text, res.Stop)
	}
	if strings.Join(pieces, "") != res.Text {
		t.Errorf("streamed %q, result %q", pieces, res.Text)
	}
	if len(res.IDs) != 4 {
		t.Errorf("ids %v", res.IDs)
	}
}

func TestStopIDsAndEOS(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 40})
	res, err := lm.Generate(context.Background(), prompt, runtime.GenerateOptions{StopIDs: []int32{483}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.IDs) != "[154 203]" || res.Stop != runtime.StopEOS {
		t.Errorf("%v %s", res.IDs, res.Stop)
	}
}

func TestContextFull(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 16})
	res, err := lm.Generate(context.Background(), prompt, runtime.GenerateOptions{IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	// 12 prompt tokens, 4 appended generated ones fill the cache; the fifth
	// comes from the last logits.
	if len(res.IDs) != 5 || res.Stop != runtime.StopContext || fmt.Sprint(res.IDs) != fmt.Sprint(greedyRef[:5]) {
		t.Errorf("%v %s", res.IDs, res.Stop)
	}
	if _, err := lm.Generate(context.Background(), make([]int32, 17), runtime.GenerateOptions{}); !errors.Is(err, runtime.ErrContextOverflow) {
		t.Errorf("17-token prompt in a 16-token context: %v", err)
	}
}

func TestCancel(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 40})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := lm.Generate(ctx, prompt, runtime.GenerateOptions{MaxTokens: 16, OnToken: func(runtime.Token) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestStreamIterator(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 40})
	var ids []int32
	for tk, err := range lm.Stream(context.Background(), prompt, runtime.GenerateOptions{MaxTokens: 16}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
		if len(ids) == 5 {
			break
		}
	}
	if fmt.Sprint(ids) != fmt.Sprint(greedyRef[:5]) {
		t.Errorf("%v", ids)
	}
	for _, err := range lm.Stream(context.Background(), []int32{99999}, runtime.GenerateOptions{}) {
		if err == nil || !strings.Contains(err.Error(), "vocabulary") {
			t.Errorf("bad id: %v", err)
		}
	}
}

func TestSamplingReproducible(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 64})
	ctx := context.Background()
	o := runtime.GenerateOptions{MaxTokens: 24, IgnoreEOS: true, Sampler: runtime.SamplerOptions{Temperature: 1.5, TopK: 50, TopP: 0.95, MinP: 0.01, Seed: 7}}
	a, err := lm.Generate(ctx, prompt, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := lm.Generate(ctx, prompt, o)
	o.Sampler.Seed = 8
	c, _ := lm.Generate(ctx, prompt, o)
	if fmt.Sprint(a.IDs) != fmt.Sprint(b.IDs) {
		t.Errorf("same seed: %v vs %v", a.IDs, b.IDs)
	}
	if fmt.Sprint(a.IDs) == fmt.Sprint(c.IDs) || fmt.Sprint(a.IDs) == fmt.Sprint(greedyRef) {
		t.Errorf("seeds 7 and 8 (or greedy) agree: %v %v", a.IDs, c.IDs)
	}
	// A batch samples row b with seed+b: row 0 equals the single run.
	rows, err := lm.GenerateBatch(ctx, [][]int32{prompt, prompt[:5]}, o)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows[0].IDs) != fmt.Sprint(c.IDs) {
		t.Errorf("batch row 0 %v, single %v", rows[0].IDs, c.IDs)
	}
}

func TestSampler(t *testing.T) {
	logits := func() []float32 { return []float32{1, 3, 2, -1, 3, 0} }
	if id := runtime.NewSampler(runtime.SamplerOptions{}).Sample(logits(), nil); id != 1 {
		t.Errorf("greedy picked %d (first maximum is 1)", id)
	}
	count := map[int32]int{}
	s := runtime.NewSampler(runtime.SamplerOptions{Temperature: 1, TopK: 3, Seed: 1})
	for range 3000 {
		count[s.Sample(logits(), nil)]++
	}
	if len(count) != 3 || count[1] == 0 || count[4] == 0 || count[2] == 0 {
		t.Errorf("top-3 sampled %v", count)
	}
	// Frequencies follow the softmax: p(1)/p(2) = e.
	if r := float64(count[1]) / float64(count[2]); math.Abs(r-math.E) > 0.5 {
		t.Errorf("p(1)/p(2) = %.2f, want e", r)
	}
	// top-p 0.5 keeps only the two tied maxima (each ~0.4 of the mass).
	count = map[int32]int{}
	s = runtime.NewSampler(runtime.SamplerOptions{Temperature: 1, TopP: 0.5, Seed: 2})
	for range 500 {
		count[s.Sample(logits(), nil)]++
	}
	if len(count) != 2 || count[1] == 0 || count[4] == 0 {
		t.Errorf("top-p sampled %v", count)
	}
	// min-p 0.5 drops everything below half the top probability (logit 2 is e⁻¹ ≈ 0.37 of it).
	count = map[int32]int{}
	s = runtime.NewSampler(runtime.SamplerOptions{Temperature: 1, MinP: 0.5, Seed: 3})
	for range 500 {
		count[s.Sample(logits(), nil)]++
	}
	if len(count) != 2 {
		t.Errorf("min-p sampled %v", count)
	}
	// Penalties: repetition divides the positive logit of a seen token,
	// presence and frequency subtract.
	l := logits()
	runtime.NewSampler(runtime.SamplerOptions{RepetitionPenalty: 2, PresencePenalty: 0.5, FrequencyPenalty: 0.25}).Sample(l, []int32{1, 1, 3})
	if l[1] != 3.0/2-0.5-0.5 || l[3] != -2-0.5-0.25 || l[4] != 3 {
		t.Errorf("penalised logits %v", l)
	}
	for _, bad := range []runtime.SamplerOptions{{Temperature: -1}, {TopP: 1.5}, {MinP: -0.1}, {TopK: -2}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestPredictLogitsMatchesSession(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 40, KV: tensor.F32, PrefillChunk: 5})
	ctx := context.Background()
	all, err := lm.PredictLogits(ctx, prompt)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := lm.NewSession()
	defer s.Close()
	for i, id := range prompt {
		row, err := s.Append(ctx, []int32{id})
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range row {
			if d := math.Abs(float64(v - all.Row(i)[j])); d > 1e-5 {
				t.Fatalf("position %d: session and PredictLogits differ by %g", i, d)
			}
		}
	}
	if s.Len() != len(prompt) {
		t.Errorf("session holds %d tokens", s.Len())
	}
	s.Reset()
	if s.Len() != 0 {
		t.Error("Reset left tokens")
	}
}

func TestConcurrentGenerate(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 40})
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			res, err := lm.Generate(context.Background(), prompt, runtime.GenerateOptions{MaxTokens: 8, IgnoreEOS: true})
			if err == nil && fmt.Sprint(res.IDs) != fmt.Sprint(greedyRef[:8]) {
				err = fmt.Errorf("got %v", res.IDs)
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Continue reuses the cached prefix: a conversation extended by the reply
// and a new turn runs only the new tokens and gives what a fresh session
// gives.
func TestContinue(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 64, KV: tensor.F32})
	ctx := context.Background()
	s, _ := lm.NewSession()
	defer s.Close()
	o := runtime.GenerateOptions{MaxTokens: 4, IgnoreEOS: true}
	first, err := s.Continue(ctx, prompt, o)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(first.IDs) != fmt.Sprint(greedyRef[:4]) || s.Len() != len(prompt)+3 {
		t.Fatalf("%v, %d cached", first.IDs, s.Len())
	}
	turn := append(append(append([]int32{}, prompt...), first.IDs...), 77, 88, 99)
	second, err := s.Continue(ctx, turn, o)
	if err != nil {
		t.Fatal(err)
	}
	if second.Timings.PromptTokens != 4 || second.PromptTokens != len(turn) {
		t.Errorf("ran %d of %d prompt tokens, want 4", second.Timings.PromptTokens, second.PromptTokens)
	}
	fresh, err := lm.Generate(ctx, turn, o)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(second.IDs) != fmt.Sprint(fresh.IDs) {
		t.Errorf("continued %v, fresh %v", second.IDs, fresh.IDs)
	}
	// A diverging history truncates the cache to the common prefix.
	other := append(append([]int32{}, prompt[:5]...), 300, 301)
	third, err := s.Continue(ctx, other, o)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := lm.Generate(ctx, other, o)
	if third.Timings.PromptTokens != 2 || fmt.Sprint(third.IDs) != fmt.Sprint(again.IDs) {
		t.Errorf("diverged: ran %d, %v vs %v", third.Timings.PromptTokens, third.IDs, again.IDs)
	}
}

// Rows of a batch fill their contexts independently, each stopping where
// it would alone.
func TestBatchContextFull(t *testing.T) {
	lm := newLM(t, runtime.Options{MaxSeq: 16, KV: tensor.F32})
	ctx := context.Background()
	prompts := [][]int32{prompt, prompt[3:8]}
	res, err := lm.GenerateBatch(ctx, prompts, runtime.GenerateOptions{IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	for b, p := range prompts {
		alone, err := lm.Generate(ctx, p, runtime.GenerateOptions{IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res[b].IDs) != fmt.Sprint(alone.IDs) || res[b].Stop != runtime.StopContext || len(res[b].IDs) != 16-len(p)+1 {
			t.Errorf("row %d: batch %v (%s), alone %v", b, res[b].IDs, res[b].Stop, alone.IDs)
		}
	}
}
