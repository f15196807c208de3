//go:build !amd64

package quant

// Without amd64 assembly the pure-Go kernels run; these names exist so the
// dispatch code is the same on every architecture.

// asmOK is always false here; tests flip it on amd64.
var asmOK = false

var avx2OK = false

func useAsm() bool  { return asmOK }
func useAVX2() bool { return false }

func dotQ8_0VNNI(w, sc []byte, qs []int8, d, s []float32) float32 {
	return dotQ8_0Go(w, sc, qs, d, s, len(d))
}

func dotQ4_0VNNI(w, sc []byte, qs []int8, d, s []float32) float32 {
	return dotQ4_0Go(w, sc, qs, d, s, len(d))
}

func dotQ4KVNNI(w, x []byte, nsb int) float32 { return dotQ4KGo(w, x, nsb) }
func dotQ5KVNNI(w, x []byte, nsb int) float32 { return dotQ5KGo(w, x, nsb) }
func dotQ6KVNNI(w, x []byte, nsb int) float32 { return dotQ6KGo(w, x, nsb) }

func quantAct32AVX512(x *float32, nb int, qs *int8, d, s *float32, scratch *byte) {
	panic("quant: assembly called without amd64")
}

func quantActKAVX512(x *float32, nb int, dst, scratch *byte, six bool) {
	panic("quant: assembly called without amd64")
}

func dotQ8_0AVX2(w, sc []byte, qs []int8, d, s []float32) float32 {
	return dotQ8_0Go(w, sc, qs, d, s, len(d))
}

func dotQ4_0AVX2(w, sc []byte, qs []int8, d, s []float32) float32 {
	return dotQ4_0Go(w, sc, qs, d, s, len(d))
}

func dotQ4KAVX2(w, x []byte, nsb int) float32 { return dotQ4KGo(w, x, nsb) }
func dotQ5KAVX2(w, x []byte, nsb int) float32 { return dotQ5KGo(w, x, nsb) }
func dotQ6KAVX2(w, x []byte, nsb int) float32 { return dotQ6KGo(w, x, nsb) }

func dotQ4KVNNI4(w, x []byte, nsb, xstride int, out *[4]float32) { panic("quant: no assembly") }
func dotQ5KVNNI4(w, x []byte, nsb, xstride int, out *[4]float32) { panic("quant: no assembly") }
func dotQ6KVNNI4(w, x []byte, nsb, xstride int, out *[4]float32) { panic("quant: no assembly") }

type rows32 struct {
	qs   *int8
	d, s *float32
}

func dotQ8_0VNNI4(w, sc []byte, groups int, rows *[4]rows32, out *[4]float32) {
	panic("quant: no assembly")
}

func dotQ4_0VNNI4(w, sc []byte, groups int, rows *[4]rows32, out *[4]float32) {
	panic("quant: no assembly")
}

func dotQ8_0RowsVNNI(w *byte, stride int, sc *byte, sstride, rows int, qs *int8, d, s *float32, nb int, out *float32) {
	panic("quant: no assembly")
}

func dotQ4_0RowsVNNI(w *byte, stride int, sc *byte, sstride, rows int, qs *int8, d, s *float32, nb int, out *float32) {
	panic("quant: no assembly")
}

func dotQ4KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32) {
	panic("quant: no assembly")
}
func dotQ5KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32) {
	panic("quant: no assembly")
}
func dotQ6KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32) {
	panic("quant: no assembly")
}

func quantAct32AVX2(x *float32, nb int, qs *int8, d, s *float32, scratch *byte) {
	panic("quant: assembly called without amd64")
}

func quantActKAVX2(x *float32, nb int, dst, scratch *byte, six bool) {
	panic("quant: assembly called without amd64")
}
