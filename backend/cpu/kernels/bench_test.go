package kernels

import (
	"fmt"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/rope"
)

// benchLevels runs b once per tier, named after it.
func benchLevels(b *testing.B, f func(b *testing.B)) {
	defer setLevel(cpuinfo.Active)
	for _, l := range levels() {
		setLevel(l)
		b.Run(l.String(), f)
	}
}

func BenchmarkUnary(b *testing.B) {
	const n = 4096
	src := randSlice(rng(1), n, 3)
	dst := make([]float32, n)
	for _, op := range []UnaryOp{Exp, Sigmoid, SiLU, Tanh, GELU, GELUTanh} {
		b.Run(op.String(), func(b *testing.B) {
			benchLevels(b, func(b *testing.B) {
				b.SetBytes(4 * n)
				for b.Loop() {
					Unary(op, dst, src)
				}
			})
		})
	}
}

func BenchmarkSiLUMul(b *testing.B) {
	for _, n := range []int{3072, 8192} {
		a, c := randSlice(rng(1), n, 3), randSlice(rng(2), n, 1)
		dst := make([]float32, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			benchLevels(b, func(b *testing.B) {
				b.SetBytes(8 * int64(n))
				for b.Loop() {
					SiLUMul(dst, a, c)
				}
			})
		})
	}
}

func BenchmarkRMSNorm(b *testing.B) {
	for _, n := range []int{1024, 2048} {
		x, w := randSlice(rng(1), n, 1), randSlice(rng(2), n, 1)
		dst := make([]float32, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(4 * int64(n))
			for b.Loop() {
				RMSNorm(dst, x, w, n, 1e-6, false)
			}
		})
	}
}

func BenchmarkRoPE(b *testing.B) {
	// Qwen3-0.6B query heads for 32 prompt tokens: 16 heads × 128.
	inv, _, _ := rope.InvFreq(rope.Scaling{Theta: 1e6, Dim: 128}, 0)
	for _, layout := range []RoPELayout{RotateHalf, Interleaved} {
		r := &RoPE{InvFreq: inv, Layout: layout}
		tab := r.Table(2048)
		x := randSlice(rng(1), 32*16*128, 1)
		b.Run(layout.String(), func(b *testing.B) {
			benchLevels(b, func(b *testing.B) {
				b.SetBytes(4 * int64(len(x)))
				for b.Loop() {
					r.Apply(x, x, 32, 16, 128, 16*128, 128, nil, 1000)
				}
			})
			b.Run("table", func(b *testing.B) {
				b.SetBytes(4 * int64(len(x)))
				for b.Loop() {
					tab.Apply(x, x, 32, 16, 128, 16*128, 128, nil, 1000)
				}
			})
		})
	}
}

// BenchmarkAttentionDecode is one decode step of a Llama-3.2-1B layer
// (32 query heads, 8 kv heads, head dim 64) over an f16 KV cache, and of a
// Qwen3-0.6B layer (16/8 heads, head dim 128) at 512.
func BenchmarkAttentionDecode(b *testing.B) {
	for _, ctx := range []int{512, 4096, -512} {
		c := attnCase{B: 1, Hq: 32, Hkv: 8, Tq: 1, Tk: ctx, D: 64, Past: ctx - 1, Causal: true, F16: true}
		name := fmt.Sprint(ctx)
		if ctx < 0 {
			ctx = -ctx
			c = attnCase{B: 1, Hq: 16, Hkv: 8, Tq: 1, Tk: ctx, D: 128, Past: ctx - 1, Causal: true, F16: true}
			name = fmt.Sprintf("qwen3-%d", ctx)
		}
		a, _ := c.build(rng(1))
		for _, threads := range []string{"pool", "serial"} {
			var r Runner
			if threads == "pool" {
				r = parallel.Default()
			}
			b.Run(fmt.Sprintf("%s/%s", name, threads), func(b *testing.B) {
				benchLevels(b, func(b *testing.B) {
					b.SetBytes(int64(2 * 2 * c.Hkv * ctx * c.D)) // K and V bytes read
					b.ReportAllocs()
					for b.Loop() {
						if err := a.Run(r); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

func BenchmarkLayerNorm(b *testing.B) {
	// Whisper-small encoder rows.
	const n = 768
	x, w, c := randSlice(rng(1), 64*n, 1), randSlice(rng(2), n, 1), randSlice(rng(3), n, 1)
	dst := make([]float32, len(x))
	benchLevels(b, func(b *testing.B) {
		b.SetBytes(4 * int64(len(x)))
		for b.Loop() {
			LayerNorm(dst, x, w, c, n, 1e-5)
		}
	})
}

// BenchmarkAttentionPrefill is a Qwen3-0.6B layer's causal attention over a
// 128-token prompt (16 query heads, 8 kv heads, head dim 128).
func BenchmarkAttentionPrefill(b *testing.B) {
	c := attnCase{B: 1, Hq: 16, Hkv: 8, Tq: 128, Tk: 128, D: 128, Causal: true}
	a, _ := c.build(rng(1))
	benchLevels(b, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := a.Run(parallel.Default()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConvWhisper is Whisper-tiny's first convolution on 10 s of
// log-mel frames (80 → 384 channels, kernel 3, 1000 frames).
func BenchmarkConvWhisper(b *testing.B) {
	c := Conv{B: 1, Cin: 80, Cout: 384, In: []int{1000}, Kernel: []int{3}, PadBefore: []int{1}, PadAfter: []int{1}}
	in := randSlice(rng(1), 80*1000, 1)
	w := randSlice(rng(2), 384*80*3, 1)
	bias := randSlice(rng(3), 384, 1)
	out := make([]float32, 384*1000)
	b.SetBytes(2 * 384 * 240 * 1000) // FLOPs, so MB/s reads as MFLOP/s
	for b.Loop() {
		if err := c.Run(parallel.Default(), out, in, w, bias); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPermute is the [T, H, D] → [H, T, D] head transpose of a
// 512-token Qwen3 query (16 heads × 128).
func BenchmarkPermute(b *testing.B) {
	shape := []int{512, 16, 128}
	src := randSlice(rng(1), prod(shape), 1)
	dst := make([]float32, len(src))
	b.SetBytes(4 * int64(len(src)))
	for b.Loop() {
		Permute(dst, src, shape, []int{1, 0, 2})
	}
}
