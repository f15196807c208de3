package safetensors

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

// BenchmarkParseHeader parses the header of a shard shaped like a 7B
// model's (291 tensors: 32 blocks of 9, embeddings, norm, head), with the
// data section left empty-sized by zero-length dims so only the header counts.
func BenchmarkParseHeader(b *testing.B) {
	var ts []TensorInfo
	add := func(name string, shape ...int64) {
		ts = append(ts, TensorInfo{Name: name, DType: tensor.BF16, Shape: shape})
	}
	add("model.embed_tokens.weight", 0, 4096)
	for i := 0; i < 32; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		for _, n := range []string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"} {
			add(p+n+".weight", 0, 4096)
		}
		add(p+"input_layernorm.weight", 0)
		add(p+"post_attention_layernorm.weight", 0)
	}
	add("model.norm.weight", 0)
	add("lm_head.weight", 0, 4096)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, ts, map[string]string{"format": "pt"})
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range ts {
		_ = w.WriteTensor(t.Name, nil)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := Parse("bench", data)
		if err != nil || len(f.Tensors) != len(ts) {
			b.Fatal(err)
		}
	}
}
