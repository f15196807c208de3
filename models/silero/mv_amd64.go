//go:build amd64 && !purego

package silero

import "github.com/rlx-go/rlx/backend/cpu/cpuinfo"

// The assembly kernels compute the products over the first nv elements of
// every row, nv a multiple of 16; mvT adds the remaining elements in Go.
// Each takes x_j at x + j·ldx (mv4: j < 4) and writes out[j·ldo + r].

//go:noescape
func mv4AVX512(w *float32, ldw, rows int, x *float32, ldx, nv int, out *float32, ldo int)

//go:noescape
func mv1AVX512(w *float32, ldw, rows int, x *float32, nv int, out *float32)

//go:noescape
func mv4AVX2(w *float32, ldw, rows int, x *float32, ldx, nv int, out *float32, ldo int)

//go:noescape
func mv1AVX2(w *float32, ldw, rows int, x *float32, nv int, out *float32)

type mvKernels struct {
	mv4 func(w *float32, ldw, rows int, x *float32, ldx, nv int, out *float32, ldo int)
	mv1 func(w *float32, ldw, rows int, x *float32, nv int, out *float32)
}

// kernelsFor picks the kernels of a CPU tier; nil means the Go loops.
func kernelsFor(l cpuinfo.Level) *mvKernels {
	switch {
	case l >= cpuinfo.AVX512:
		return &mvKernels{mv4AVX512, mv1AVX512}
	case l >= cpuinfo.AVX2:
		return &mvKernels{mv4AVX2, mv1AVX2}
	}
	return nil
}

var kernels = kernelsFor(cpuinfo.Active)

func mvT(out []float32, ldo int, w []float32, ldw, rows int, x []float32, ldx, nx, n int) {
	mvTWith(kernels, out, ldo, w, ldw, rows, x, ldx, nx, n)
}

func mvTWith(k *mvKernels, out []float32, ldo int, w []float32, ldw, rows int, x []float32, ldx, nx, n int) {
	nv := n &^ 15
	if k == nil || nv == 0 || rows == 0 || nx == 0 {
		mvTGo(out, ldo, w, ldw, rows, x, ldx, nx, n)
		return
	}
	// The kernels read through raw pointers: check every extent here.
	if len(w) < (rows-1)*ldw+n || len(x) < (nx-1)*ldx+n || len(out) < (nx-1)*ldo+rows {
		panic("silero: mvT operands too short")
	}
	j := 0
	for ; j+4 <= nx; j += 4 {
		k.mv4(&w[0], ldw, rows, &x[j*ldx], ldx, nv, &out[j*ldo], ldo)
	}
	for ; j < nx; j++ {
		k.mv1(&w[0], ldw, rows, &x[j*ldx], nv, &out[j*ldo])
	}
	if nv == n {
		return
	}
	for j := range nx {
		xj := x[j*ldx+nv : j*ldx+n]
		for r := range rows {
			wr := w[r*ldw+nv : r*ldw+n]
			var s float32
			for i, v := range wr {
				s += v * xj[i]
			}
			out[j*ldo+r] += s
		}
	}
}
