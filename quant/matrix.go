package quant

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// Matrix is a quantized weight matrix W of Rows()×Cols() (N×K, GGUF's
// ne1×ne0: each row is one output feature) prepared for y = x·Wᵀ.
//
// Q4_0, Q8_0, Q4_K, Q5_K and Q6_K (what Q4_K_M, Q5_K_M, Q6_K and Q8_0
// files hold) get integer kernels: MatMul quantizes the activations to 8
// bits per block (32-element blocks with a float32 scale for Q4_0/Q8_0,
// ggml's Q8_K super-blocks for the K-quants) and multiplies bytes, with
// AVX-512 VNNI assembly where the CPU has it and portable Go otherwise.
// Every other type Dequantize accepts works too, through a slower path
// that decodes one weight row at a time to float32.
//
// A Matrix is immutable after NewMatrix and safe for concurrent MatMul
// calls.
type Matrix struct {
	dtype      tensor.DType
	rows, cols int
	kind       kernelKind
	data       []byte // kernel layout (see repack.go), or the caller's bytes
	stride     int    // bytes from one row to the next in data
	scales     []byte // Q4_0/Q8_0: per-row fp16 block scales, padded (see repack.go)
	sstride    int
}

type kernelKind uint8

const (
	kindGeneric kernelKind = iota // dequantize a row, float32 dot
	kindQ8_0
	kindQ4_0
	kindQ4K
	kindQ5K
	kindQ6K
)

// NewMatrix checks that data holds rows×cols elements of type dt (row-major,
// as GGUF stores a [cols, rows] tensor) and prepares it for MatMul.
//
// Q4_0, Q8_0, Q4_K, Q5_K and Q6_K are repacked into a copy laid out for the
// kernels (about the same number of bytes; see repack.go). The other types
// keep referring to data, which must then stay unchanged and mapped for the
// Matrix's lifetime (an mmapped GGUF does).
func NewMatrix(dt tensor.DType, rows, cols int, data []byte) (*Matrix, error) {
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("quant: matrix %v: bad shape %d×%d", dt, rows, cols)
	}
	if !CanDequantize(dt) {
		return nil, fmt.Errorf("quant: matrix: unsupported type %v", dt)
	}
	rb, err := dt.RowBytes(int64(cols))
	if err != nil {
		return nil, fmt.Errorf("quant: matrix %v %d×%d: %w", dt, rows, cols, err)
	}
	if int64(rows) > int64(len(data))/max(rb, 1)+1 || int64(len(data)) != int64(rows)*rb {
		return nil, fmt.Errorf("quant: matrix %v %d×%d needs %d bytes, have %d", dt, rows, cols, int64(rows)*rb, len(data))
	}
	m := &Matrix{dtype: dt, rows: rows, cols: cols, data: data, stride: int(rb)}
	switch dt {
	case tensor.Q8_0:
		m.kind = kindQ8_0
		m.repack32(8)
	case tensor.Q4_0:
		m.kind = kindQ4_0
		m.repack32(4)
	case tensor.Q4_K:
		m.kind = kindQ4K
		m.repackK()
	case tensor.Q5_K:
		m.kind = kindQ5K
		m.repackK()
	case tensor.Q6_K:
		m.kind = kindQ6K
		m.repackK()
	}
	return m, nil
}

// DType is the weight type.
func (m *Matrix) DType() tensor.DType { return m.dtype }

// Rows is N, the number of output features.
func (m *Matrix) Rows() int { return m.rows }

// Cols is K, the length of each input row.
func (m *Matrix) Cols() int { return m.cols }

// MatMul computes y = x·Wᵀ for x of M×Cols() and y of M×Rows(), both
// row-major float32, with M = len(x)/Cols(). M = 1 is a GEMV (decode);
// larger M (prefill) quantizes each activation row once and reuses it for
// every weight row. Work is split over p (parallel.Default() when nil).
func (m *Matrix) MatMul(p *parallel.Pool, y, x []float32) error {
	if len(x) == 0 || len(x)%m.cols != 0 {
		return fmt.Errorf("quant: matmul %v %d×%d: input of %d values is not a whole number of rows of %d", m.dtype, m.rows, m.cols, len(x), m.cols)
	}
	M := len(x) / m.cols
	if len(y) != M*m.rows {
		return fmt.Errorf("quant: matmul %v %d×%d: output has %d values, want %d×%d", m.dtype, m.rows, m.cols, len(y), M, m.rows)
	}
	if p == nil {
		p = parallel.Default()
	}
	if m.kind == kindGeneric {
		m.matmulGeneric(p, y, x, M)
		return nil
	}
	act := getAct(m.kind, M, m.cols)
	defer putAct(act)
	if M*m.cols <= 1<<14 {
		// A decode-sized input quantizes in about a microsecond: cheaper
		// than waking the pool's workers for it.
		act.quantize(serial, x)
	} else {
		act.quantize(p, x)
	}
	dot := dotFuncs[m.kind]
	dot4 := dot4Func(m.kind)
	// Rows are handed out in chunks that keep a weight slab hot while all M
	// activation rows pass over it. A GEMV reuses nothing, so its chunks
	// are long (four per thread) for the memory streams' sake: each new
	// chunk restarts the prefetchers.
	grain := max(1, min(64, m.rows/(8*p.Size())))
	if M == 1 {
		grain = max(1, (m.rows+4*p.Size()-1)/(4*p.Size()))
	}
	p.For(m.rows, grain, func(lo, hi int) {
		r := 0
		if dot4 != nil {
			for ; r+4 <= M; r += 4 {
				dot4(m, act, r, lo, hi, y)
			}
		}
		for ; r < M; r++ {
			dot(m, act, r, lo, hi, y[r*m.rows:(r+1)*m.rows])
		}
	})
	// The kernels read m's off-heap weights through raw pointers, which do
	// not keep m alive: its cleanup must not free them before they finish.
	runtime.KeepAlive(m)
	return nil
}

func (m *Matrix) matmulGeneric(p *parallel.Pool, y, x []float32, M int) {
	K := m.cols
	grain := max(1, min(64, m.rows/(8*p.Size())))
	p.For(m.rows, grain, func(lo, hi int) {
		w := make([]float32, K)
		for n := lo; n < hi; n++ {
			// Sizes were validated in NewMatrix, so this cannot fail.
			_ = Dequantize(m.dtype, w, m.data[n*m.stride:(n+1)*m.stride])
			for r := 0; r < M; r++ {
				xr := x[r*K : (r+1)*K]
				var s float32
				for i, v := range w {
					s += v * xr[i]
				}
				y[r*m.rows+n] = s
			}
		}
	})
}

// act holds quantized activations, laid out for one kernel family.
type act struct {
	kind kernelKind
	M, K int
	// 32-block format (Q4_0, Q8_0): per row kp int8 values (K padded with
	// zeros to a multiple of blockGroup) in the weights' group layout
	// (groupPos), kp/32 scales d and kp/32 terms d·Σq, for the offset
	// correction.
	kp  int
	qs  []int8
	d   []float32
	sum []float32
	// K-quant format: per row K/256 blocks of actKBytes (see actk.go).
	xk []byte
}

// blockGroup is how many elements the 32-block kernels consume per step.
const blockGroup = 512

var actPool sync.Pool

// serial is a pool of one: its calls run inline on the caller.
var serial = parallel.New(1)

func getAct(kind kernelKind, M, K int) *act {
	a, _ := actPool.Get().(*act)
	if a == nil {
		a = &act{}
	}
	a.kind, a.M, a.K = kind, M, K
	switch kind {
	case kindQ4_0, kindQ8_0:
		a.kp = (K + blockGroup - 1) / blockGroup * blockGroup
		n := M * a.kp
		a.qs = grow(a.qs, n)
		a.d = grow(a.d, n/32)
		a.sum = grow(a.sum, n/32)
	default:
		a.xk = grow(a.xk, M*K/qkK*actKBytes)
	}
	return a
}

func putAct(a *act) { actPool.Put(a) }

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// quantize fills a from x (M rows of K), in parallel over blocks.
func (a *act) quantize(p *parallel.Pool, x []float32) {
	asm, avx2 := useAsm(), useAVX2()
	q32, qk := quantAct32AVX512, quantActKAVX512
	if avx2 {
		asm, q32, qk = true, quantAct32AVX2, quantActKAVX2
	}
	switch a.kind {
	case kindQ4_0, kindQ8_0:
		nb := a.kp / 32
		kb := a.K / 32
		groups := nb / 16
		p.For(a.M*groups, 4, func(lo, hi int) {
			var scratch [blockGroup]byte
			for i := lo; i < hi; i++ {
				r, g := i/groups, i%groups
				real := min(16, max(0, kb-16*g))
				b0 := r*nb + 16*g
				if asm {
					xp := &x[r*a.K] // K ≥ 32, so the row has an element 0
					if real > 0 {
						xp = &x[r*a.K+512*g]
					}
					q32(xp, real, &a.qs[r*a.kp+blockGroup*g], &a.d[b0], &a.sum[b0], &scratch[0])
				} else {
					a.quantGroup32(x[r*a.K:(r+1)*a.K], r, g, real)
				}
				roundScalesF16(a.d[b0:b0+real], a.sum[b0:b0+real])
			}
		})
	default:
		nb := a.M * a.K / qkK
		p.For(nb, 8, func(lo, hi int) {
			if asm {
				var scratch [qkK]byte
				qk(&x[lo*qkK], hi-lo, &a.xk[lo*actKBytes], &scratch[0], a.kind == kindQ6K)
				return
			}
			for i := lo; i < hi; i++ {
				quantActK(a.xk[i*actKBytes:(i+1)*actKBytes], x[i*qkK:(i+1)*qkK], a.kind)
			}
		})
	}
}

// quantGroup32 is the Go twin of quantAct32AVX512 for group g of row r.
func (a *act) quantGroup32(x []float32, r, g, real int) {
	nb := a.kp / 32
	grp := a.qs[r*a.kp+blockGroup*g : r*a.kp+blockGroup*(g+1)]
	var tmp [32]int8
	for L := 0; L < 16; L++ {
		i := r*nb + 16*g + L
		if L < real {
			b := 16*g + L
			a.d[i], a.sum[i] = quantAct32(tmp[:], x[32*b:32*b+32])
		} else {
			a.d[i], a.sum[i] = 0, 0
			tmp = [32]int8{}
		}
		for c := 0; c < 8; c++ { // scatter into the group layout (groupPos)
			copy(grp[64*c+4*L:64*c+4*L+4], tmp[4*c:4*c+4])
		}
	}
}

// quantAct32 quantizes 32 activations symmetrically to int8 with a float32
// scale, returning d and d·Σq; roundScalesF16 then rounds d as Q8_0 does.
func quantAct32(qs []int8, x []float32) (d, dsum float32) {
	_, amax := absMax(x)
	if amax == 0 {
		clear(qs)
		return 0, 0
	}
	d = amax / 127
	id := 127 / amax
	s := 0
	for j, v := range x {
		q := nearestInt(v * id)
		qs[j] = int8(q)
		s += int(q)
	}
	return d, d * float32(s)
}

// roundScalesF16 rounds each block scale to fp16 and rescales its d·Σq to
// match. ggml stores a Q8_0 activation block's scale as fp16 (the int8 values
// are computed from the unrounded scale), and llama.cpp's Q4_0/Q8_0 dot
// products use the rounded value; doing the same keeps our results within
// float rounding of llama.cpp's instead of ~1e-3 relative away.
func roundScalesF16(d, sum []float32) {
	for i, v := range d {
		if v == 0 {
			continue
		}
		n := math.Round(float64(sum[i]) / float64(v)) // Σq, an integer
		r := tensor.F16ToF32(tensor.F32ToF16(v))
		d[i], sum[i] = r, r*float32(n)
	}
}
