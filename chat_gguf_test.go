package rlx_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx"
	"github.com/rlx-go/rlx/chat"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/internal/gztest"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/runtime"
)

// llamaGGUF writes a random-weight one-layer Llama GGUF whose tokenizer is
// the Llama 2 SentencePiece vocabulary of models/llama/testdata/tokenizer
// (llama.cpp's vocab-only file) and whose chat template is a small one.
func llamaGGUF(t *testing.T) string {
	t.Helper()
	raw := gztest.Read(t, "models/llama/testdata/tokenizer/ggml-vocab-llama-spm.gguf.gz")
	vocab, err := gguf.Parse("ggml-vocab-llama-spm.gguf", raw)
	if err != nil {
		t.Fatal(err)
	}
	md := vocab.Metadata.Clone()
	for _, k := range md.Keys() { // the vocab file keeps its model's sizes: drop them
		if strings.HasPrefix(k, "llama.") {
			md.Delete(k)
		}
	}
	toks, _ := md.Strings("tokenizer.ggml.tokens")
	V, D, F, H, KV, HD := len(toks), 32, 64, 2, 1, 16
	set := func(k string, v any) {
		if err := md.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	set("general.architecture", "llama")
	set("llama.context_length", uint32(256))
	set("llama.embedding_length", uint32(D))
	set("llama.block_count", uint32(1))
	set("llama.feed_forward_length", uint32(F))
	set("llama.attention.head_count", uint32(H))
	set("llama.attention.head_count_kv", uint32(KV))
	set("llama.attention.layer_norm_rms_epsilon", float32(1e-5))
	set("llama.rope.freq_base", float32(10000))
	set("tokenizer.chat_template", "{% for m in messages %}{{ bos_token }}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}")
	shapes := map[string][]int{
		"token_embd.weight": {V, D}, "output_norm.weight": {D}, "output.weight": {V, D},
		"blk.0.attn_norm.weight": {D}, "blk.0.ffn_norm.weight": {D},
		"blk.0.attn_q.weight": {H * HD, D}, "blk.0.attn_k.weight": {KV * HD, D}, "blk.0.attn_v.weight": {KV * HD, D},
		"blk.0.attn_output.weight": {D, H * HD}, "blk.0.ffn_gate.weight": {F, D}, "blk.0.ffn_up.weight": {F, D},
		"blk.0.ffn_down.weight": {D, F},
	}
	var infos []gguf.TensorInfo
	for n, s := range shapes {
		dims := make([]uint64, len(s))
		for i, d := range s {
			dims[len(s)-1-i] = uint64(d)
		}
		infos = append(infos, gguf.TensorInfo{Name: n, Type: gguf.TypeF32, Dims: dims})
	}
	path := filepath.Join(t.TempDir(), "llama-chat.gguf")
	w, err := gguf.Create(path, md, infos)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, in := range infos {
		s := shapes[in.Name]
		n := 1
		for _, d := range s {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 0.5)
			if len(s) == 1 {
				v[i] = 1 + v[i]/5
			}
		}
		if err := w.WriteTensor(in.Name, nn.F32Tensor(v, n).Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChatGGUF: a GGUF's own vocabulary, special ids and chat template.
func TestChatGGUF(t *testing.T) {
	lm, err := rlx.OpenLM(llamaGGUF(t), rlx.WithMaxSeq(96))
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	if lm.Tokenizer() == nil || !lm.Config().IsEOS(2) {
		t.Fatalf("tokenizer %v, stop ids %v", lm.Tokenizer(), lm.Config().EOS)
	}
	msgs := []chat.Message{{Role: "user", Content: "Hello there"}}
	p, err := lm.ChatPrompt(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if p != "<s>[user] Hello there\n[assistant] " {
		t.Errorf("prompt %q", p)
	}
	var pieces []string
	res, err := lm.Chat(context.Background(), msgs, rlx.Temperature(0.9), rlx.Seed(5), rlx.MaxTokens(10),
		rlx.OnToken(func(tk runtime.Token) error { pieces = append(pieces, tk.Text); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := lm.Tokenizer().Decode(res.IDs, true)
	if res.Text != text || strings.Join(pieces, "") != text {
		t.Errorf("text %q, decode %q, streamed %q", res.Text, text, pieces)
	}
	ids, _ := lm.Tokenizer().Encode(p, false)
	if res.PromptTokens != len(ids) || ids[0] != 1 {
		t.Errorf("prompt tokens %d (%v)", res.PromptTokens, ids)
	}
	t.Logf("%q (%s)", res.Text, res.Stop)
}
