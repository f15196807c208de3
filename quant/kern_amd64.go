//go:build amd64

package quant

import "github.com/rlx-go/rlx/backend/cpu/cpuinfo"

// asmOK says whether the AVX-512 VNNI kernels may run: the hardware has
// them and RLX_CPU has not lowered the tier. avx2OK does the same for the
// AVX2 kernels, used when asmOK is false.
var (
	asmOK  = cpuinfo.Active >= cpuinfo.AVX512 && cpuinfo.Host.AVX512VNNI
	avx2OK = cpuinfo.Active >= cpuinfo.AVX2
)

func useAsm() bool  { return asmOK }
func useAVX2() bool { return !asmOK && avx2OK }

// The kernels below need K padded as MatMul's activations are (32-block
// kernels: len(d) a multiple of 16 blocks) and weight rows readable up to
// that padding (repackSlack).

// The VNNI kernels take a run of weight rows (stride bytes apart) against
// one activation row and write one output per weight row.

//go:noescape
func dotQ8_0RowsVNNI(w *byte, stride int, sc *byte, sstride, rows int, qs *int8, d, s *float32, nb int, out *float32)

//go:noescape
func dotQ4_0RowsVNNI(w *byte, stride int, sc *byte, sstride, rows int, qs *int8, d, s *float32, nb int, out *float32)

//go:noescape
func dotQ4KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32)

//go:noescape
func dotQ5KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32)

//go:noescape
func dotQ6KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32)

// Single-row forms, for the tests.

func dotQ8_0VNNI(w, sc []byte, qs []int8, d, s []float32) (out float32) {
	dotQ8_0RowsVNNI(&w[0], 0, &sc[0], 0, 1, &qs[0], &d[0], &s[0], len(d), &out)
	return out
}

func dotQ4_0VNNI(w, sc []byte, qs []int8, d, s []float32) (out float32) {
	dotQ4_0RowsVNNI(&w[0], 0, &sc[0], 0, 1, &qs[0], &d[0], &s[0], len(d), &out)
	return out
}

func dotQ4KVNNI(w, x []byte, nsb int) (out float32) {
	dotQ4KRowsVNNI(&w[0], 0, 1, &x[0], nsb, &out)
	return out
}

func dotQ5KVNNI(w, x []byte, nsb int) (out float32) {
	dotQ5KRowsVNNI(&w[0], 0, 1, &x[0], nsb, &out)
	return out
}

func dotQ6KVNNI(w, x []byte, nsb int) (out float32) {
	dotQ6KRowsVNNI(&w[0], 0, 1, &x[0], nsb, &out)
	return out
}

// quantAct32AVX512 quantizes the 32-blocks of one activation row into the
// group layout: nb real blocks from x, zeros up to the next multiple of 16
// blocks; qs gets 512 bytes, d and s 16 floats per group. scratch must hold
// 512 bytes.
//
//go:noescape
func quantAct32AVX512(x *float32, nb int, qs *int8, d, s *float32, scratch *byte)

// quantActKAVX512 quantizes nb super-blocks into actK layout (Q6_K order if
// six). scratch must hold 256 bytes.
//
//go:noescape
func quantActKAVX512(x *float32, nb int, dst, scratch *byte, six bool)

// AVX2 twins (kern_avx2_amd64.s), same contracts as the VNNI kernels.

//go:noescape
func dotQ8_0AVX2(w, sc []byte, qs []int8, d, s []float32) float32

//go:noescape
func dotQ4_0AVX2(w, sc []byte, qs []int8, d, s []float32) float32

//go:noescape
func dotQ4KAVX2(w, x []byte, nsb int) float32

//go:noescape
func dotQ5KAVX2(w, x []byte, nsb int) float32

//go:noescape
func dotQ6KAVX2(w, x []byte, nsb int) float32

// Four-row K-quant kernels (kern4_amd64.s): out[i] = W row · activation
// row i, the rows' blocks starting at x[i*xstride:].

//go:noescape
func dotQ4KVNNI4(w, x []byte, nsb, xstride int, out *[4]float32)

//go:noescape
func dotQ5KVNNI4(w, x []byte, nsb, xstride int, out *[4]float32)

//go:noescape
func dotQ6KVNNI4(w, x []byte, nsb, xstride int, out *[4]float32)

// rows32 locates one activation row of the 32-block format for the
// four-row kernels.
type rows32 struct {
	qs   *int8
	d, s *float32
}

//go:noescape
func dotQ8_0VNNI4(w, sc []byte, groups int, rows *[4]rows32, out *[4]float32)

//go:noescape
func dotQ4_0VNNI4(w, sc []byte, groups int, rows *[4]rows32, out *[4]float32)

// AVX2 twins of the activation quantizers (act_avx2_amd64.s).

//go:noescape
func quantAct32AVX2(x *float32, nb int, qs *int8, d, s *float32, scratch *byte)

//go:noescape
func quantActKAVX2(x *float32, nb int, dst, scratch *byte, six bool)
