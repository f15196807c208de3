package cuda

import (
	"fmt"
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// BenchmarkAttention times one cached attention call on the device (events
// around back-to-back launches, so host overhead is excluded as far as
// the launches queue faster than they run): decode steps of Qwen3-0.6B
// (16/8 heads × 128) and Llama-3.2-1B (32/8 × 64) shapes at short and long
// pasts over an F16 cache of 4096, and a 512-token prefill, for several
// launch shapes. It reports µs per call and the K/V bytes read per second.
func BenchmarkAttention(b *testing.B) {
	if err := driver.Init(); err != nil {
		b.Skipf("no CUDA: %v", err)
	}
	be, err := New(Options{})
	if err != nil {
		b.Skipf("no CUDA: %v", err)
	}
	defer be.Close()
	type shape struct {
		name          string
		hq, hkv, d, t int
		past          int
	}
	const maxSeq = 4096
	for _, s := range []shape{
		{"qwen3-0.6b/decode/past512", 16, 8, 128, 1, 512},
		{"qwen3-0.6b/decode/past4000", 16, 8, 128, 1, 4000},
		{"llama-1b/decode/past4000", 32, 8, 64, 1, 4000},
		{"qwen3-0.6b/prefill512", 16, 8, 128, 512, 0},
	} {
		for _, knob := range [][2]int{{1, 2}, {4, 4}, {4, 8}} {
			b.Run(fmt.Sprintf("%s/warps%d/perSM%d", s.name, knob[0], knob[1]), func(b *testing.B) {
				attnMinWarps, attnBlocksPerSM = knob[0], knob[1]
				defer func() { attnMinWarps, attnBlocksPerSM = 4, 4 }()
				bd := ir.NewBuilder()
				cache := bd.KVCache("l", tensor.F16, ir.N(1), ir.N(maxSeq), s.hkv, s.d)
				bd.Output("o", bd.Attention(bd.Input("q", tensor.F32, ir.N(1), ir.N(s.t), ir.N(s.hq), ir.N(s.d)),
					bd.Input("k", tensor.F32, ir.N(1), ir.N(s.t), ir.N(s.hkv), ir.N(s.d)),
					bd.Input("v", tensor.F32, ir.N(1), ir.N(s.t), ir.N(s.hkv), ir.N(s.d)),
					ir.AttentionOptions{Causal: true, Cache: &cache, PastRows: bd.Input("past", tensor.I32, ir.N(1))}))
				g, err := bd.Build()
				if err != nil {
					b.Fatal(err)
				}
				var node *ir.Node
				for _, n := range g.Nodes {
					if n.Op == ir.OpAttention {
						node = n
					}
				}
				k, err := be.Prepare(node, make([]*tensor.Tensor, len(node.Inputs)))
				if err != nil {
					b.Fatal(err)
				}
				mk := func(dt tensor.DType, shape ...int) backend.Tensor {
					n, _ := tensor.Bytes(dt, shape)
					buf, err := be.Alloc(n)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { be.Free(buf) })
					return backend.Tensor{Buf: buf, DType: dt, Shape: shape}
				}
				past := mk(tensor.I32, 1)
				if err := be.Write(past, tensor.FromI32([]int32{int32(s.past)}, 1).Data); err != nil {
					b.Fatal(err)
				}
				ins := []backend.Tensor{mk(tensor.F32, 1, s.t, s.hq, s.d), mk(tensor.F32, 1, s.t, s.hkv, s.d), mk(tensor.F32, 1, s.t, s.hkv, s.d),
					mk(tensor.F16, 1, maxSeq, s.hkv, s.d), mk(tensor.F16, 1, maxSeq, s.hkv, s.d), past}
				out := mk(tensor.F32, 1, s.t, s.hq, s.d)
				env := &backend.Env{}
				run := func(n int) float64 {
					start, _ := be.ctx.NewEvent()
					end, _ := be.ctx.NewEvent()
					defer be.ctx.DestroyEvent(start)
					defer be.ctx.DestroyEvent(end)
					if err := be.ctx.Record(start, be.stream); err != nil {
						b.Fatal(err)
					}
					for range n {
						if err := k.Run(env, ins, out); err != nil {
							b.Fatal(err)
						}
					}
					if err := be.ctx.Record(end, be.stream); err != nil {
						b.Fatal(err)
					}
					if err := be.ctx.SyncEvent(end); err != nil {
						b.Fatal(err)
					}
					ms, err := be.ctx.Elapsed(start, end)
					if err != nil {
						b.Fatal(err)
					}
					return float64(ms) * 1e3 / float64(n)
				}
				run(3)
				b.ResetTimer()
				us := run(b.N)
				keys := s.past + s.t
				kv := float64(2*keys*s.hkv*s.d*2) / (us * 1e-6) / 1e9
				b.ReportMetric(us, "µs/call")
				b.ReportMetric(kv, "KV-GB/s")
			})
		}
	}
}
