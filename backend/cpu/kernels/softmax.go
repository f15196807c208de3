package kernels

import (
	"math"
)

// SoftmaxOpts modify a row softmax. The zero value is a plain softmax.
//
// Rows are numbered r = g·QueryRows + i (g a group such as batch×head, i the
// query index within it). The logits of row r are
//
//	src[r·cols + j]·Scale + Mask[(g/MaskGroupDiv)·MaskGroupStride + i·MaskRowStride + j]
//
// and, when Causal, columns j > Past + i are excluded (probability 0).
type SoftmaxOpts struct {
	Scale           float32   // multiplies the logits; 0 means 1
	Mask            []float32 // optional additive mask
	MaskRowStride   int       // elements between the mask rows of consecutive queries
	MaskGroupStride int       // elements between the masks of consecutive groups
	MaskGroupDiv    int       // groups sharing one mask (e.g. heads); 0 means 1
	Causal          bool
	Past            int // absolute position of query 0 (keys before it are cached)
	QueryRows       int // rows per group; 0 means every row is its own query 0
}

// Softmax computes the softmax of rows lo ≤ r < hi of src (cols values each)
// into dst. dst may alias src. A row with every logit -Inf (or every column
// excluded) becomes all zeros rather than NaN.
func Softmax(dst, src []float32, cols, lo, hi int, o *SoftmaxOpts) {
	if o == nil {
		o = &SoftmaxOpts{}
	}
	for r := lo; r < hi; r++ {
		out := dst[r*cols : (r+1)*cols]
		n := logits(out, src[r*cols:(r+1)*cols], r, o)
		row := out[:n]
		m := impl.maxv(row)
		if m == float32(math.Inf(-1)) || m != m {
			fill := float32(0)
			if m != m {
				fill = m
			}
			for j := range out {
				out[j] = fill
			}
			continue
		}
		var s float64
		for k := 0; k < len(row); k += sumChunk {
			s += float64(impl.expSubSum(row[k:min(k+sumChunk, len(row))], m))
		}
		inv := float32(1 / s)
		for j := range row {
			row[j] *= inv
		}
		for j := n; j < cols; j++ {
			out[j] = 0
		}
	}
}

// LogSoftmax computes log(softmax) of rows lo ≤ r < hi with the same options.
// Excluded columns, and rows whose logits are all -Inf, get -Inf.
func LogSoftmax(dst, src []float32, cols, lo, hi int, o *SoftmaxOpts) {
	if o == nil {
		o = &SoftmaxOpts{}
	}
	for r := lo; r < hi; r++ {
		out := dst[r*cols : (r+1)*cols]
		n := logits(out, src[r*cols:(r+1)*cols], r, o)
		row := out[:n]
		m := impl.maxv(row)
		if m == float32(math.Inf(-1)) {
			for j := range out {
				out[j] = m
			}
			continue
		}
		var buf [sumChunk]float32
		var s float64
		for k := 0; k < len(row); k += sumChunk {
			c := buf[:copy(buf[:], row[k:min(k+sumChunk, len(row))])]
			s += float64(impl.expSubSum(c, m))
		}
		lse := m + float32(math.Log(s))
		for j := range row {
			row[j] -= lse
		}
		for j := n; j < cols; j++ {
			out[j] = float32(math.Inf(-1))
		}
	}
}

// logits writes the scaled, masked logits of row r into out and returns how
// many leading columns are visible (all of them unless causal).
func logits(out, in []float32, r int, o *SoftmaxOpts) int {
	cols := len(out)
	n := cols
	g, i := 0, r
	if o.QueryRows > 0 {
		g, i = r/o.QueryRows, r%o.QueryRows
	}
	if o.Causal {
		n = min(max(o.Past+i+1, 0), cols)
	}
	scale := o.Scale
	if scale == 0 {
		scale = 1
	}
	switch {
	case scale != 1:
		BinaryScalar(Mul, out[:n], in[:n], scale)
	case &out[0] != &in[0]:
		copy(out[:n], in[:n])
	}
	if o.Mask != nil {
		div := max(o.MaskGroupDiv, 1)
		mask := o.Mask[(g/div)*o.MaskGroupStride+i*o.MaskRowStride:][:n]
		Binary(Add, out[:n], out[:n], mask)
	}
	return n
}

// expSubSumGo sets x[i] = exp(x[i]-m) and returns the sum.
func expSubSumGo(x []float32, m float32) float32 {
	for i, v := range x {
		x[i] = expf(v - m)
	}
	return sum8(x)
}

func maxOf(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m || v != v {
			m = v
			if v != v {
				return v
			}
		}
	}
	return m
}

// sumChunk is the number of values summed in float32 lanes before the
// partial result is added to a float64 total; it bounds the rounding error of
// long rows (a softmax over a vocabulary) at about chunk/8 ulps.
const sumChunk = 512

// sum8 adds x with eight float32 lanes (the vector code's order).
func sum8(x []float32) float32 {
	var s [8]float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		for k := range 8 {
			s[k] += x[i+k]
		}
	}
	for ; i < len(x); i++ {
		s[i&7] += x[i]
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}
