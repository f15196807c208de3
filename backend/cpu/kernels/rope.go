package kernels

import (
	"fmt"
	"math"
)

// RoPELayout says which pairs of a head's leading rotary dimensions rotate together.
type RoPELayout int

const (
	// RotateHalf pairs dimension i with i+R/2 (R = rotary dimension): GPT-NeoX
	// and Hugging Face's rotate_half; llama.cpp's "neox" mode.
	RotateHalf RoPELayout = iota
	// Interleaved pairs dimensions 2i and 2i+1: GPT-J and llama.cpp's "normal"
	// mode (GGUF llama weights, whose q/k rows the converter permuted).
	Interleaved
)

func (l RoPELayout) String() string {
	switch l {
	case RotateHalf:
		return "rotate_half"
	case Interleaved:
		return "interleaved"
	}
	return fmt.Sprintf("RoPELayout(%d)", int(l))
}

// RoPE rotates query/key heads by position-dependent angles.
//
// For pair k (0 ≤ k < len(InvFreq)) at position p the angle is θ = p·InvFreq[k],
// computed in float32 as Hugging Face does; cos θ and sin θ are rounded to
// float32 and multiplied by AttnFactor; the pair (a, b) becomes
// (a·cos − b·sin, b·cos + a·sin), each product rounded separately as PyTorch's
// unfused float32 ops do. Dimensions past 2·len(InvFreq) (partial rotary) are
// copied unchanged.
type RoPE struct {
	InvFreq    []float32 // rotary dimension / 2 inverse frequencies
	Layout     RoPELayout
	AttnFactor float32 // scales cos and sin (YaRN); 0 means 1
}

// Apply rotates src into dst (which may alias src exactly). The input has
// tokens × heads vectors of headDim values, vector (t, h) starting at
// t·tokStride + h·headStride in both slices. Token t sits at position
// positions[t], or pos0+t when positions is nil.
func (r *RoPE) Apply(dst, src []float32, tokens, heads, headDim, tokStride, headStride int, positions []int32, pos0 int) {
	half := len(r.InvFreq)
	if 2*half > headDim {
		panic(fmt.Sprintf("kernels: rope rotary dim %d > head dim %d", 2*half, headDim))
	}
	cs := make([]float32, 6*half)
	for t := range tokens {
		p := pos0 + t
		if positions != nil {
			p = int(positions[t])
		}
		r.cosSin(cs[:half], cs[half:2*half], p)
		off := t * tokStride
		impl.ropeHeads(dst[off:], src[off:], cs[:half], cs[half:2*half], cs[2*half:], r.Layout, heads, headDim, headStride)
	}
}

// ropeHeadsGo rotates heads vectors of headDim values, stride apart.
// scratch (4·half values) is for the vector code's expanded tables.
func ropeHeadsGo(dst, src, cos, sin, _ []float32, layout RoPELayout, heads, headDim, stride int) {
	for h := range heads {
		off := h * stride
		ropeVec(dst[off:off+headDim], src[off:off+headDim], cos, sin, layout)
	}
}

// CosSin fills cos and sin (len(InvFreq) each) for position p exactly as
// Apply does, for callers that cache the tables.
func (r *RoPE) CosSin(cos, sin []float32, p int) { r.cosSin(cos, sin, p) }

func (r *RoPE) cosSin(cos, sin []float32, p int) {
	f := r.AttnFactor
	if f == 0 {
		f = 1
	}
	pf := float32(p)
	for k, w := range r.InvFreq {
		sn, cs := math.Sincos(float64(pf * w))
		c, s := float32(cs), float32(sn)
		if f != 1 {
			c, s = c*f, s*f
		}
		cos[k], sin[k] = c, s
	}
}

// ApplyTable rotates like Apply but reads cos/sin from precomputed tables
// with rows of len(InvFreq) values: token t uses row t (the caller gathered
// the rows for the positions).
func (r *RoPE) ApplyTable(dst, src, cos, sin []float32, tokens, heads, headDim, tokStride, headStride int) {
	half := len(r.InvFreq)
	scratch := make([]float32, 4*half)
	for t := range tokens {
		c, s := cos[t*half:(t+1)*half], sin[t*half:(t+1)*half]
		off := t * tokStride
		impl.ropeHeads(dst[off:], src[off:], c, s, scratch, r.Layout, heads, headDim, headStride)
	}
}

func ropeVec(dst, src, cos, sin []float32, layout RoPELayout) {
	half := len(cos)
	if layout == Interleaved {
		for k := range half {
			a, b := src[2*k], src[2*k+1]
			c, s := cos[k], sin[k]
			dst[2*k] = float32(a*c) - float32(b*s)
			dst[2*k+1] = float32(b*c) + float32(a*s)
		}
	} else {
		x1, x2 := src[:half], src[half:2*half]
		y1, y2 := dst[:half], dst[half:2*half]
		for k := range half {
			a, b := x1[k], x2[k]
			c, s := cos[k], sin[k]
			y1[k] = float32(a*c) - float32(b*s)
			y2[k] = float32(b*c) + float32(a*s)
		}
	}
	if &dst[0] != &src[0] {
		copy(dst[2*half:], src[2*half:])
	}
}

// RoPETable holds cos/sin for positions [0, Len) so repeated rotations (every
// layer of a forward pass, every decode step) skip the trigonometry. It is
// immutable once built and safe for concurrent use.
type RoPETable struct {
	r        RoPE
	cos, sin []float32 // [Len, half]
}

// Table precomputes the cos/sin rows of positions [0, n).
func (r *RoPE) Table(n int) *RoPETable {
	half := len(r.InvFreq)
	t := &RoPETable{r: *r, cos: make([]float32, n*half), sin: make([]float32, n*half)}
	for p := range n {
		r.cosSin(t.cos[p*half:(p+1)*half], t.sin[p*half:(p+1)*half], p)
	}
	return t
}

// Len is the number of positions the table covers.
func (t *RoPETable) Len() int {
	if len(t.r.InvFreq) == 0 {
		return 0
	}
	return len(t.cos) / len(t.r.InvFreq)
}

// Apply rotates exactly like RoPE.Apply (same arguments, same results);
// positions outside the table fall back to computing cos/sin.
func (t *RoPETable) Apply(dst, src []float32, tokens, heads, headDim, tokStride, headStride int, positions []int32, pos0 int) {
	half := len(t.r.InvFreq)
	if 2*half > headDim {
		panic(fmt.Sprintf("kernels: rope rotary dim %d > head dim %d", 2*half, headDim))
	}
	var cs []float32
	scratch := make([]float32, 4*half)
	n := t.Len()
	for tk := range tokens {
		p := pos0 + tk
		if positions != nil {
			p = int(positions[tk])
		}
		var c, s []float32
		if p >= 0 && p < n {
			c, s = t.cos[p*half:(p+1)*half], t.sin[p*half:(p+1)*half]
		} else {
			if cs == nil {
				cs = make([]float32, 2*half)
			}
			t.r.cosSin(cs[:half], cs[half:], p)
			c, s = cs[:half], cs[half:]
		}
		off := tk * tokStride
		impl.ropeHeads(dst[off:], src[off:], c, s, scratch, t.r.Layout, heads, headDim, headStride)
	}
}
