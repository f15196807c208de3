package cuda

import (
	"fmt"
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// BenchmarkAttention times one cached attention call on the device (all
// its launches; device time only): decode steps of Qwen3-0.6B (16/8 heads
// × 128) and Llama-3.2-1B (32/8 × 64) shapes at pasts of 1, 128, 1024 and
// 4095 over an F16 cache of 4096, and 512-token prefills, through the
// decode kernels (attn_dec with its defaults, and attn_dec2 with 128 or
// 256 threads a block, 1 or 2 blocks per SM and ranges of up to 0/128/256
// keys in one block), the tensor-core one (attn_mma, 4 or 2 warps; its causal
// rows split over blocks of at least 64/128/256 keys or not, whatever the
// number of row blocks) and the general one (kv_store2 + attn_f32). It
// reports µs per call and the K/V bytes read per second.
func BenchmarkAttention(b *testing.B) {
	be := openBench(b)
	type shape struct {
		name          string
		hq, hkv, d, t int
		past          int
	}
	const maxSeq = 4096
	for _, s := range []shape{
		{"qwen3-0.6b/decode/past1", 16, 8, 128, 1, 1},
		{"qwen3-0.6b/decode/past128", 16, 8, 128, 1, 128},
		{"qwen3-0.6b/decode/past1024", 16, 8, 128, 1, 1024},
		{"qwen3-0.6b/decode/past4095", 16, 8, 128, 1, 4095},
		{"llama-1b/decode/past1", 32, 8, 64, 1, 1},
		{"llama-1b/decode/past128", 32, 8, 64, 1, 128},
		{"llama-1b/decode/past1024", 32, 8, 64, 1, 1024},
		{"llama-1b/decode/past4095", 32, 8, 64, 1, 4095},
		{"qwen3-0.6b/prefill512", 16, 8, 128, 512, 0},
		{"llama-1b/prefill512", 32, 8, 64, 512, 0},
	} {
		type variant struct {
			name            string
			perSM, minSplit int
			split           int  // attn_mma's mmaSplitKeys
			prefetch        bool // attn_dec with its L2 prefetch
			whole           int  // attn_dec's decWhole
			mode            int  // decMode: 0 attn_dec, 2 attn_dec2
			threads         int  // attn_dec2's threads a block
		}
		vs := []variant{{"attn_dec/perSM2/min64/whole128", 2, 64, 0, false, 128, 0, 0}}
		for _, th := range []int{128, 256} {
			for _, per := range []int{1, 2} {
				for _, whole := range []int{0, 128, 256} {
					vs = append(vs, variant{fmt.Sprintf("attn_dec2/threads%d/perSM%d/min64/whole%d", th, per, whole), per, 64, 0, false, whole, 2, th})
				}
			}
		}
		if s.t > 1 {
			// Prefills do not fit the decode kernel; minSplit is attn_mma's warps here.
			vs = []variant{{"attn_f32", 0, 0, 0, false, 0, 0, 0}, {"attn_mma/warps4/nosplit", -1, 4, 0, false, 0, 0, 0}, {"attn_mma/warps4/split64", -1, 4, 64, false, 0, 0, 0},
				{"attn_mma/warps4/split128", -1, 4, 128, false, 0, 0, 0}, {"attn_mma/warps4/split256", -1, 4, 256, false, 0, 0, 0},
				{"attn_mma/warps2/nosplit", -1, 2, 0, false, 0, 0, 0}, {"attn_mma/warps2/split128", -1, 2, 128, false, 0, 0, 0}}
		}
		for _, v := range vs {
			b.Run(fmt.Sprintf("%s/%s", s.name, v.name), func(b *testing.B) {
				oldPer, oldMin, oldSplit, oldPre := decBlocksPerSM, decMinSplit, mmaSplitKeys, decPrefetch
				oldMode, oldThreads, oldPer2, oldWhole := decMode, decThreads, dec2PerSM, decWhole
				decOff, mmaOff = v.perSM <= 0, v.perSM == 0
				if !decOff {
					decBlocksPerSM, decMinSplit = v.perSM, v.minSplit
					decMode, decThreads, dec2PerSM = v.mode, v.threads, v.perSM
				}
				if v.perSM < 0 {
					mmaWarps, mmaSplitKeys, mmaSplitAlways = v.minSplit, v.split, true
				}
				decPrefetch, decWhole = v.prefetch, v.whole
				defer func() {
					decOff, mmaOff, mmaWarps, decBlocksPerSM, decMinSplit, mmaSplitKeys, decPrefetch = false, false, 4, oldPer, oldMin, oldSplit, oldPre
					mmaSplitAlways, decWhole = false, oldWhole
					decMode, decThreads, dec2PerSM = oldMode, oldThreads, oldPer2
				}()
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
				// Device time only: gpuTime (quant_bench_test.go) queues the
				// launches behind a spin kernel, so host launch costs hide.
				launch := func(int) error { return k.Run(env, ins, out) }
				gpuTime(b, be, 3, launch)
				b.ResetTimer()
				us := gpuTime(b, be, b.N, launch) * 1e3 / float64(b.N)
				keys := s.past + s.t
				kv := float64(2*keys*s.hkv*s.d*2) / (us * 1e-6) / 1e9
				b.ReportMetric(us, "µs/call")
				b.ReportMetric(kv, "KV-GB/s")
			})
		}
	}
}
