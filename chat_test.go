package rlx_test

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx"
	"github.com/rlx-go/rlx/chat"
	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/internal/gztest"
	"github.com/rlx-go/rlx/runtime"
	"github.com/rlx-go/rlx/tensor"
)

// qwen3Folder writes a random-weight one-layer Qwen3 with the real Qwen3
// tokenizer and chat template (models/qwen3/testdata/tokenizer, see its
// README) into a temporary folder, as a Hugging Face checkpoint.
func qwen3Folder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	const V, D, H, KV, HD, F = 151936, 32, 2, 1, 16, 64
	cfg := `{"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","vocab_size":151936,"hidden_size":32,
	"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"head_dim":16,"intermediate_size":64,
	"rms_norm_eps":1e-6,"rope_theta":1000000.0,"tie_word_embeddings":true,"max_position_embeddings":4096,
	"bos_token_id":151643,"eos_token_id":151645}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int64{
		"model.embed_tokens.weight": {V, D}, "model.norm.weight": {D},
		"model.layers.0.input_layernorm.weight": {D}, "model.layers.0.post_attention_layernorm.weight": {D},
		"model.layers.0.self_attn.q_proj.weight": {H * HD, D}, "model.layers.0.self_attn.k_proj.weight": {KV * HD, D},
		"model.layers.0.self_attn.v_proj.weight": {KV * HD, D}, "model.layers.0.self_attn.o_proj.weight": {D, H * HD},
		"model.layers.0.self_attn.q_norm.weight": {HD}, "model.layers.0.self_attn.k_norm.weight": {HD},
		"model.layers.0.mlp.gate_proj.weight": {F, D}, "model.layers.0.mlp.up_proj.weight": {F, D},
		"model.layers.0.mlp.down_proj.weight": {D, F},
	}
	var infos []safetensors.TensorInfo
	for n, s := range shapes {
		infos = append(infos, safetensors.TensorInfo{Name: n, DType: tensor.BF16, Shape: s})
	}
	w, err := safetensors.Create(filepath.Join(dir, "model.safetensors"), infos, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, in := range infos {
		n := 1
		for _, d := range in.Shape {
			n *= int(d)
		}
		b := make([]byte, 2*n)
		for i := range n {
			v := r.NormFloat64() * 0.5
			if len(in.Shape) == 1 {
				v = 1 + 0.1*v
			}
			binary.LittleEndian.PutUint16(b[2*i:], tensor.F32ToBF16(float32(v)))
		}
		if err := w.WriteTensor(in.Name, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	src := "models/qwen3/testdata/tokenizer"
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), gztest.Read(t, filepath.Join(src, "tokenizer.json.gz")), 0o644); err != nil {
		t.Fatal(err)
	}
	tc, err := os.ReadFile(filepath.Join(src, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), tc, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestChatEndToEnd runs text through a BF16 checkpoint with a real
// tokenizer and chat template: the template renders, the reply's text is
// the decode of its ids, streaming pieces add up to it, and <|im_end|>
// (from the tokenizer's special tokens) stops generation.
func TestChatEndToEnd(t *testing.T) {
	lm, err := rlx.OpenLM(qwen3Folder(t), rlx.WithMaxSeq(128), rlx.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	msgs := []chat.Message{{Role: "user", Content: "Hello, who are you?"}}
	p, err := lm.ChatPrompt(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p, "<|im_start|>user\nHello, who are you?<|im_end|>\n<|im_start|>assistant\n") {
		t.Errorf("chat prompt %q", p)
	}
	if !lm.Config().IsEOS(151645) {
		t.Errorf("<|im_end|> is not a stop id: %v", lm.Config().EOS)
	}
	ctx := context.Background()
	var streamed strings.Builder
	res, err := lm.Chat(ctx, msgs, rlx.Temperature(1), rlx.Seed(3), rlx.MaxTokens(12),
		rlx.OnToken(func(tk runtime.Token) error { streamed.WriteString(tk.Text); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	text, err := lm.Tokenizer().Decode(res.IDs, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != text || streamed.String() != text || len(res.IDs) == 0 {
		t.Errorf("text %q, decode of ids %q, streamed %q", res.Text, text, streamed.String())
	}
	ids, _ := lm.Tokenizer().Encode(p, false)
	if res.PromptTokens != len(ids) {
		t.Errorf("prompt tokens %d, template encodes to %d", res.PromptTokens, len(ids))
	}
	// Greedy from text equals greedy from the same ids; the logits agree.
	a, err := lm.Generate(ctx, "The capital of France is", rlx.Greedy(), rlx.MaxTokens(6), rlx.IgnoreEOS())
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := lm.Encode("The capital of France is")
	b, _ := lm.GenerateIDs(ctx, enc, rlx.Greedy(), rlx.MaxTokens(6), rlx.IgnoreEOS())
	if a.Text != b.Text || len(a.IDs) != 6 {
		t.Errorf("%q vs %q", a.Text, b.Text)
	}
	lg, err := lm.Logits(ctx, enc)
	if err != nil {
		t.Fatal(err)
	}
	last := lg.Row(lg.Rows - 1)
	best := 0
	for i, v := range last {
		if v > last[best] || math.IsNaN(float64(v)) {
			best = i
		}
	}
	if int32(best) != a.IDs[0] {
		t.Errorf("argmax of the last logits %d, first greedy token %d", best, a.IDs[0])
	}
	n := 0
	for tk, err := range lm.Stream(ctx, "Hi", rlx.MaxTokens(3), rlx.Seed(1)) {
		if err != nil {
			t.Fatal(err)
		}
		_ = tk
		n++
	}
	if n == 0 {
		t.Error("Stream yielded nothing")
	}
}

// A conversation reuses its cache: the second turn runs only the tokens
// after the cached prefix and replies as a fresh run of the whole prompt.
func TestConversation(t *testing.T) {
	lm, err := rlx.OpenLM(qwen3Folder(t), rlx.WithMaxSeq(256))
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	ctx := context.Background()
	c, err := lm.NewConversation("You are terse.")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Send(ctx, "Hi!", rlx.Greedy(), rlx.MaxTokens(5)); err != nil {
		t.Fatal(err)
	}
	second, err := c.Send(ctx, "And then?", rlx.Greedy(), rlx.MaxTokens(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != 5 || c.Messages[4].Role != "assistant" || c.Messages[4].Content != second.Text {
		t.Fatalf("messages %+v", c.Messages)
	}
	if second.Timings.PromptTokens >= second.PromptTokens {
		t.Errorf("second turn ran all %d prompt tokens", second.PromptTokens)
	}
	p, _ := lm.ChatPrompt(c.Messages[:4])
	ids, _ := lm.Tokenizer().Encode(p, false)
	fresh, err := lm.GenerateIDs(ctx, ids, rlx.Greedy(), rlx.MaxTokens(5))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Text != second.Text {
		t.Errorf("conversation %q, fresh %q", second.Text, fresh.Text)
	}
	c.Reset()
	if len(c.Messages) != 1 {
		t.Errorf("reset kept %d messages", len(c.Messages))
	}
}
