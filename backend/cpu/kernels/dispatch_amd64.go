//go:build amd64 && !purego

package kernels

import (
	"unsafe"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
)

//go:generate go run ./internal/gen

// archImpls installs the assembly kernels of tier l (capped by the host).
// Each wrapper runs the assembly on the whole vectors and the pure-Go twin on
// the tail, so results do not depend on where a caller splits a slice.
func archImpls(im *impls, l cpuinfo.Level) {
	l = min(l, cpuinfo.Host.MaxLevel())
	switch l {
	case cpuinfo.AVX512:
		im.level = l
		im.exp = unaryAsm(expAVX512, expGo, 16)
		im.sigmoid = unaryAsm(sigmoidAVX512, sigmoidGo, 16)
		im.silu = unaryAsm(siluAVX512, siluGo, 16)
		im.tanh = unaryAsm(tanhAVX512, tanhGo, 16)
		im.gelu = unaryAsm(geluAVX512, geluGo, 16)
		im.geluTanh = unaryAsm(geluTanhAVX512, geluTanhGo, 16)
		im.siluMul = gluAsm(siluMulAVX512, siluMulGo, 16)
		im.geluMul = gluAsm(geluMulAVX512, geluMulGo, 16)
		im.geluTanhMul = gluAsm(geluTanhMulAVX512, geluTanhMulGo, 16)
		im.dotsF32 = dotsF32Asm(dotsF32AVX512, dotsF32AVX2)
		im.dotsF16 = dotsF16Asm(dotsF16AVX512, dotsF16AVX2)
		im.axpysF32 = axpysF32Asm(axpysF32AVX512, axpysF32AVX2)
		im.axpysF16 = axpysF16Asm(axpysF16AVX512, axpysF16AVX2)
		im.dotsGF32 = dotsGAsm([5]dotsGFn{2: dotsF32G2AVX512, 4: dotsF32G4AVX512}, 16, dotsGF32Go, im.dotsF32)
		im.dotsGF16 = dotsGAsm([5]dotsGFn{2: dotsF16G2AVX512, 4: dotsF16G4AVX512}, 16, dotsGF16Go, im.dotsF16)
		im.axpysGF32 = axpysGAsm([5]axpysGFn{2: axpysF32G2AVX512, 4: axpysF32G4AVX512}, 16, axpysGF32Go, im.axpysF32)
		im.axpysGF16 = axpysGAsm([5]axpysGFn{2: axpysF16G2AVX512, 4: axpysF16G4AVX512}, 16, axpysGF16Go, im.axpysF16)
		im.maxv = maxAsm(maxvAVX512, 16)
		im.argmax = argmaxAsm(argmaxvAVX512, 16)
		im.expSubSum = expSubSumAsm(expSubSumAVX512, 16)
		im.f16ToF32 = cvtAsm(f16ToF32AVX512, f16ToF32Go, 16)
		im.f32ToF16 = cvtAsm(f32ToF16AVX512, f32ToF16Go, 16)
		im.bf16ToF32 = cvtAsm(bf16ToF32AVX512, bf16ToF32Go, 16)
		im.f32ToBF16 = cvtAsm(f32ToBF16AVX512, f32ToBF16Go, 16)
		im.sumSq = sumSqAsm(sumSqAVX512, 16)
		im.scaleRow = scaleRowAsm(scaleRowAVX512, 16)
		im.sumDev = sumDevAsm(sumDevAVX512, 16)
		im.ropeHeads = ropeHeadsAsm(ropeHalfAVX512, ropePairAVX512, 16)
		im.lanesT = 16
		im.scoresT = scoresTAsm(scoresTAVX512, 16)
		im.softmaxT = softmaxTAsm(softmaxTAVX512, 16)
		im.pvT = pvTAsm(pvTAVX512, 16)
		im.f16Rows = f16RowsAsm(f16RowsToF32AVX512, f16RowsToF32AVX2)
		im.normRow = normRowAsm(normRowAVX512, 16)
		im.binary = [4]func(dst, a, b []float32){
			gluAsm(addvAVX512, addGo, 16), gluAsm(subvAVX512, subGo, 16),
			gluAsm(mulvAVX512, mulGo, 16), gluAsm(divvAVX512, divGo, 16)}
		im.scalar = [4]func(dst, a []float32, s float32){
			scalarAsm(addsAVX512, addsGo, 16), scalarAsm(subsAVX512, subsGo, 16),
			scalarAsm(mulsAVX512, mulsGo, 16), scalarAsm(divsAVX512, divsGo, 16)}
	case cpuinfo.AVX2:
		if !cpuinfo.Host.F16C {
			return
		}
		im.level = l
		im.exp = unaryAsm(expAVX2, expGo, 8)
		im.sigmoid = unaryAsm(sigmoidAVX2, sigmoidGo, 8)
		im.silu = unaryAsm(siluAVX2, siluGo, 8)
		im.tanh = unaryAsm(tanhAVX2, tanhGo, 8)
		im.gelu = unaryAsm(geluAVX2, geluGo, 8)
		im.geluTanh = unaryAsm(geluTanhAVX2, geluTanhGo, 8)
		im.siluMul = gluAsm(siluMulAVX2, siluMulGo, 8)
		im.geluMul = gluAsm(geluMulAVX2, geluMulGo, 8)
		im.geluTanhMul = gluAsm(geluTanhMulAVX2, geluTanhMulGo, 8)
		im.dotsF32 = dotsF32Asm(nil, dotsF32AVX2)
		im.dotsF16 = dotsF16Asm(nil, dotsF16AVX2)
		im.axpysF32 = axpysF32Asm(nil, axpysF32AVX2)
		im.axpysF16 = axpysF16Asm(nil, axpysF16AVX2)
		im.dotsGF32 = dotsGAsm([5]dotsGFn{2: dotsF32G2AVX2}, 8, dotsGF32Go, im.dotsF32)
		im.dotsGF16 = dotsGAsm([5]dotsGFn{2: dotsF16G2AVX2}, 8, dotsGF16Go, im.dotsF16)
		im.axpysGF32 = axpysGAsm([5]axpysGFn{2: axpysF32G2AVX2}, 8, axpysGF32Go, im.axpysF32)
		im.axpysGF16 = axpysGAsm([5]axpysGFn{2: axpysF16G2AVX2}, 8, axpysGF16Go, im.axpysF16)
		im.maxv = maxAsm(maxvAVX2, 8)
		im.argmax = argmaxAsm(argmaxvAVX2, 8)
		im.expSubSum = expSubSumAsm(expSubSumAVX2, 8)
		im.f16ToF32 = cvtAsm(f16ToF32AVX2, f16ToF32Go, 8)
		im.f32ToF16 = cvtAsm(f32ToF16AVX2, f32ToF16Go, 8)
		im.bf16ToF32 = cvtAsm(bf16ToF32AVX2, bf16ToF32Go, 8)
		im.f32ToBF16 = cvtAsm(f32ToBF16AVX2, f32ToBF16Go, 8)
		im.sumSq = sumSqAsm(sumSqAVX2, 8)
		im.scaleRow = scaleRowAsm(scaleRowAVX2, 8)
		im.sumDev = sumDevAsm(sumDevAVX2, 8)
		im.ropeHeads = ropeHeadsAsm(ropeHalfAVX2, ropePairAVX2, 8)
		im.lanesT = 8
		im.scoresT = scoresTAsm(scoresTAVX2, 8)
		im.softmaxT = softmaxTAsm(softmaxTAVX2, 8)
		im.pvT = pvTAsm(pvTAVX2, 8)
		im.f16Rows = f16RowsAsm(nil, f16RowsToF32AVX2)
		im.normRow = normRowAsm(normRowAVX2, 8)
		im.binary = [4]func(dst, a, b []float32){
			gluAsm(addvAVX2, addGo, 8), gluAsm(subvAVX2, subGo, 8),
			gluAsm(mulvAVX2, mulGo, 8), gluAsm(divvAVX2, divGo, 8)}
		im.scalar = [4]func(dst, a []float32, s float32){
			scalarAsm(addsAVX2, addsGo, 8), scalarAsm(subsAVX2, subsGo, 8),
			scalarAsm(mulsAVX2, mulsGo, 8), scalarAsm(divsAVX2, divsGo, 8)}
	}
}

func unaryAsm(f func(dst, src *float32, n int), twin func(dst, src []float32), lanes int) func(dst, src []float32) {
	return func(dst, src []float32) {
		n := len(dst)
		src = src[:n]
		v := n &^ (lanes - 1)
		if v > 0 {
			f(&dst[0], &src[0], v)
		}
		if v < n {
			twin(dst[v:], src[v:])
		}
	}
}

func gluAsm(f func(dst, a, b *float32, n int), twin func(dst, a, b []float32), lanes int) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		n := len(dst)
		a, b = a[:n], b[:n]
		v := n &^ (lanes - 1)
		if v > 0 {
			f(&dst[0], &a[0], &b[0], v)
		}
		if v < n {
			twin(dst[v:], a[v:], b[v:])
		}
	}
}

type dotsFn func(s *float32, n int, q *float32, d int, k unsafe.Pointer, stride int)
type axpysFn func(acc *float32, d int, p *float32, n int, v unsafe.Pointer, stride int)

// pick returns the widest kernel whose lane count divides d.
func pick[F any](z, y F, zOK bool, d int) (F, bool) {
	if zOK && d%16 == 0 {
		return z, true
	}
	if d%8 == 0 {
		return y, true
	}
	var none F
	return none, false
}

func dotsF32Asm(z, y dotsFn) func(s, q, k []float32, stride int) {
	return func(s, q, k []float32, stride int) {
		n, d := len(s), len(q)
		f, ok := pick(z, y, z != nil, d)
		if !ok || n == 0 {
			dotsF32Go(s, q, k, stride)
			return
		}
		_ = k[(n-1)*stride+d-1]
		f(&s[0], n, &q[0], d, unsafe.Pointer(&k[0]), stride)
	}
}

func dotsF16Asm(z, y dotsFn) func(s, q []float32, k []uint16, stride int) {
	return func(s, q []float32, k []uint16, stride int) {
		n, d := len(s), len(q)
		f, ok := pick(z, y, z != nil, d)
		if !ok || n == 0 {
			dotsF16Go(s, q, k, stride)
			return
		}
		_ = k[(n-1)*stride+d-1]
		f(&s[0], n, &q[0], d, unsafe.Pointer(&k[0]), stride)
	}
}

func axpysF32Asm(z, y axpysFn) func(acc, p, v []float32, stride int) {
	return func(acc, p, v []float32, stride int) {
		n, d := len(p), len(acc)
		f, ok := pick(z, y, z != nil, d)
		if !ok || n == 0 {
			axpysF32Go(acc, p, v, stride)
			return
		}
		_ = v[(n-1)*stride+d-1]
		f(&acc[0], d, &p[0], n, unsafe.Pointer(&v[0]), stride)
	}
}

func axpysF16Asm(z, y axpysFn) func(acc, p []float32, v []uint16, stride int) {
	return func(acc, p []float32, v []uint16, stride int) {
		n, d := len(p), len(acc)
		f, ok := pick(z, y, z != nil, d)
		if !ok || n == 0 {
			axpysF16Go(acc, p, v, stride)
			return
		}
		_ = v[(n-1)*stride+d-1]
		f(&acc[0], d, &p[0], n, unsafe.Pointer(&v[0]), stride)
	}
}

func maxAsm(f func(x *float32, n int) float32, lanes int) func(x []float32) float32 {
	return func(x []float32) float32 {
		v := len(x) &^ (lanes - 1)
		if v == 0 {
			return maxOf(x)
		}
		m := f(&x[0], v)
		if t := maxOf(x[v:]); t > m || t != t {
			m = t
		}
		return m
	}
}

func expSubSumAsm(f func(x *float32, n int, m float32) float32, lanes int) func(x []float32, m float32) float32 {
	return func(x []float32, m float32) float32 {
		v := len(x) &^ (lanes - 1)
		var s float32
		if v > 0 {
			s = f(&x[0], v, m)
		}
		if v < len(x) {
			s += expSubSumGo(x[v:], m)
		}
		return s
	}
}

func cvtAsm[D, S any](f func(dst *D, src *S, n int), twin func(dst []D, src []S), lanes int) func(dst []D, src []S) {
	return func(dst []D, src []S) {
		n := len(dst)
		src = src[:n]
		v := n &^ (lanes - 1)
		if v > 0 {
			f(&dst[0], &src[0], v)
		}
		if v < n {
			twin(dst[v:], src[v:])
		}
	}
}

func sumSqAsm(f func(x *float32, n int) float32, lanes int) func(x []float32) float32 {
	return func(x []float32) float32 {
		v := len(x) &^ (lanes - 1)
		var s float32
		if v > 0 {
			s = f(&x[0], v)
		}
		if v < len(x) {
			s += sumSquares8(x[v:])
		}
		return s
	}
}

func scaleRowAsm(f func(dst, x, w *float32, n int, s float32, mode int), lanes int) func(dst, x, w []float32, s float32, plusOne bool) {
	return func(dst, x, w []float32, s float32, plusOne bool) {
		n := len(x)
		dst = dst[:n]
		v := n &^ (lanes - 1)
		if v > 0 {
			mode, wp := 0, (*float32)(nil)
			if w != nil {
				w = w[:n]
				wp = &w[0]
				mode = 1
				if plusOne {
					mode = 2
				}
			}
			f(&dst[0], &x[0], wp, v, s, mode)
		}
		if v < n {
			var wt []float32
			if w != nil {
				wt = w[v:]
			}
			scaleRowGo(dst[v:], x[v:], wt, s, plusOne)
		}
	}
}

func sumDevAsm(f func(x *float32, n int, m float32, mode int) float32, lanes int) func(x []float32, m float32, mode int) float32 {
	return func(x []float32, m float32, mode int) float32 {
		v := len(x) &^ (lanes - 1)
		var s float32
		if v > 0 {
			s = f(&x[0], v, m, mode)
		}
		if v < len(x) {
			s += sumDevGo(x[v:], m, mode)
		}
		return s
	}
}

func normRowAsm(f func(dst, x, w, b *float32, n int, m, inv float32, mode int), lanes int) func(dst, x, w, b []float32, m, inv float32) {
	return func(dst, x, w, b []float32, m, inv float32) {
		n := len(x)
		dst = dst[:n]
		v := n &^ (lanes - 1)
		if v > 0 {
			mode := 0
			var wp, bp *float32
			if w != nil {
				w = w[:n]
				wp, mode = &w[0], mode|1
			}
			if b != nil {
				b = b[:n]
				bp, mode = &b[0], mode|2
			}
			f(&dst[0], &x[0], wp, bp, v, m, inv, mode)
		}
		if v < n {
			var wt, bt []float32
			if w != nil {
				wt = w[v:]
			}
			if b != nil {
				bt = b[v:]
			}
			normRowGo(dst[v:], x[v:], wt, bt, m, inv)
		}
	}
}

// The transposed-tile wrappers run the twin when L is not the kernel's lane
// count (tests call them with other L) and check every bound the assembly
// relies on.

func scoresTAsm(f func(st *float32, n int, qt *float32, d int, k *float32, kstride int), lanes int) func(st []float32, L, n int, qt []float32, d int, k []float32, kstride int) {
	return func(st []float32, L, n int, qt []float32, d int, k []float32, kstride int) {
		if L != lanes || n == 0 || d == 0 {
			scoresTGo(st, L, n, qt, d, k, kstride)
			return
		}
		_ = st[n*L-1]
		_ = qt[d*L-1]
		_ = k[(n-1)*kstride+d-1]
		f(&st[0], n, &qt[0], d, &k[0], kstride)
	}
}

func softmaxTAsm(f func(st *float32, n int, m, l, alpha *float32), lanes int) func(st []float32, L, n int, m, l, alpha []float32) {
	return func(st []float32, L, n int, m, l, alpha []float32) {
		if L != lanes || n == 0 {
			softmaxTGo(st, L, n, m, l, alpha)
			return
		}
		_ = st[n*L-1]
		_, _, _ = m[L-1], l[L-1], alpha[L-1]
		f(&st[0], n, &m[0], &l[0], &alpha[0])
	}
}

func pvTAsm(f func(acc *float32, d int, alpha, pt *float32, n int, v *float32, vstride int), lanes int) func(acc []float32, L, d int, alpha, pt []float32, n int, v []float32, vstride int) {
	return func(acc []float32, L, d int, alpha, pt []float32, n int, v []float32, vstride int) {
		if L != lanes || n == 0 || d == 0 || d%lanes != 0 {
			pvTGo(acc, L, d, alpha, pt, n, v, vstride)
			return
		}
		_ = acc[L*d-1]
		_ = alpha[L-1]
		_ = pt[n*L-1]
		_ = v[(n-1)*vstride+d-1]
		f(&acc[0], d, &alpha[0], &pt[0], n, &v[0], vstride)
	}
}

func f16RowsAsm(z, y func(dst *float32, src *uint16, rows, d, stride int)) func(dst []float32, src []uint16, rows, d, stride int) {
	return func(dst []float32, src []uint16, rows, d, stride int) {
		f, ok := pick(z, y, z != nil, d)
		if !ok || rows == 0 {
			f16RowsGo(dst, src, rows, d, stride)
			return
		}
		_ = dst[rows*d-1]
		_ = src[(rows-1)*stride+d-1]
		f(&dst[0], &src[0], rows, d, stride)
	}
}

type ropeFn func(dst, src, cos, sin *float32, n, heads, stride int)

func ropeHeadsAsm(half, pair ropeFn, lanes int) func(dst, src, cos, sin, scratch []float32, layout RoPELayout, heads, headDim, stride int) {
	return func(dst, src, cos, sin, scratch []float32, layout RoPELayout, heads, headDim, stride int) {
		h := len(cos)
		if heads == 0 || h == 0 || (layout == RotateHalf && h%lanes != 0) || (layout == Interleaved && (2*h)%lanes != 0) {
			ropeHeadsGo(dst, src, cos, sin, scratch, layout, heads, headDim, stride)
			return
		}
		last := (heads-1)*stride + headDim
		_, _ = dst[last-1], src[last-1]
		_ = sin[h-1]
		if layout == RotateHalf {
			half(&dst[0], &src[0], &cos[0], &sin[0], h, heads, stride)
		} else {
			cc, ss := scratch[:2*h], scratch[2*h:4*h]
			for k := range h {
				cc[2*k], cc[2*k+1] = cos[k], cos[k]
				ss[2*k], ss[2*k+1] = -sin[k], sin[k]
			}
			pair(&dst[0], &src[0], &cc[0], &ss[0], 2*h, heads, stride)
		}
		if 2*h < headDim && &dst[0] != &src[0] {
			for i := range heads {
				o := i * stride
				copy(dst[o+2*h:o+headDim], src[o+2*h:o+headDim])
			}
		}
	}
}

type dotsGFn func(s *float32, sstride, n int, q *float32, d int, k unsafe.Pointer, kstride int)
type axpysGFn func(acc *float32, astride, d int, p *float32, pstride, n int, v unsafe.Pointer, vstride int)

// groupSize is the widest grouped kernel (4, 2, else single rows) for the
// rem rows left; fns has the widths available.
func groupSize(rem int, has4, has2 bool) int {
	if has4 && rem >= 4 {
		return 4
	}
	if has2 && rem >= 2 {
		return 2
	}
	return 1
}

func dotsGAsm[T float32 | uint16](fns [5]dotsGFn, lanes int, twin func([]float32, int, int, []float32, int, []T, int), single func([]float32, []float32, []T, int)) func(s []float32, sstride, n int, q []float32, G int, k []T, kstride int) {
	return func(s []float32, sstride, n int, q []float32, G int, k []T, kstride int) {
		d := len(q) / G
		if n == 0 || d%lanes != 0 {
			twin(s, sstride, n, q, G, k, kstride)
			return
		}
		_ = k[(n-1)*kstride+d-1]
		_ = s[(G-1)*sstride+n-1]
		n4 := n &^ 3
		for g0 := 0; g0 < G; {
			gs := groupSize(G-g0, fns[4] != nil, fns[2] != nil)
			qs := q[g0*d : (g0+gs)*d]
			if gs == 1 {
				single(s[g0*sstride:g0*sstride+n], qs, k, kstride)
			} else {
				if n4 > 0 {
					fns[gs](&s[g0*sstride], sstride, n4, &qs[0], d, unsafe.Pointer(&k[0]), kstride)
				}
				if n4 < n {
					twin(s[g0*sstride+n4:], sstride, n-n4, qs, gs, k[n4*kstride:], kstride)
				}
			}
			g0 += gs
		}
	}
}

func axpysGAsm[T float32 | uint16](fns [5]axpysGFn, lanes int, twin func([]float32, int, int, int, []float32, int, int, []T, int), single func([]float32, []float32, []T, int)) func(acc []float32, astride, d, G int, p []float32, pstride, n int, v []T, vstride int) {
	return func(acc []float32, astride, d, G int, p []float32, pstride, n int, v []T, vstride int) {
		if n == 0 || d%lanes != 0 {
			twin(acc, astride, d, G, p, pstride, n, v, vstride)
			return
		}
		_ = v[(n-1)*vstride+d-1]
		_ = acc[(G-1)*astride+d-1]
		_ = p[(G-1)*pstride+n-1]
		for g0 := 0; g0 < G; {
			gs := groupSize(G-g0, fns[4] != nil, fns[2] != nil)
			if gs == 1 {
				single(acc[g0*astride:g0*astride+d], p[g0*pstride:g0*pstride+n], v, vstride)
			} else {
				fns[gs](&acc[g0*astride], astride, d, &p[g0*pstride], pstride, n, unsafe.Pointer(&v[0]), vstride)
			}
			g0 += gs
		}
	}
}

// argmaxAsm combines the per-lane maxima (the lowest index among lanes that
// hold the maximum is the first occurrence) and the tail; rows with a NaN
// go to the twin, which returns the first NaN as PyTorch does.
func argmaxAsm(f func(x *float32, n int, vals *float32, idx *int32) int, lanes int) func(x []float32) int {
	return func(x []float32) int {
		v := len(x) &^ (lanes - 1)
		if v == 0 {
			return argmaxGo(x)
		}
		var vals [16]float32
		var idx [16]int32
		if f(&x[0], v, &vals[0], &idx[0]) != 0 {
			return argmaxGo(x)
		}
		best, bi := vals[0], int(idx[0])
		for l := 1; l < lanes; l++ {
			if vals[l] > best || (vals[l] == best && int(idx[l]) < bi) {
				best, bi = vals[l], int(idx[l])
			}
		}
		for i := v; i < len(x); i++ {
			if x[i] != x[i] {
				return argmaxGo(x)
			}
			if x[i] > best {
				best, bi = x[i], i
			}
		}
		return bi
	}
}

func scalarAsm(f func(dst, a *float32, n int, s float32), twin func(dst, a []float32, s float32), lanes int) func(dst, a []float32, s float32) {
	return func(dst, a []float32, s float32) {
		n := len(dst)
		a = a[:n]
		v := n &^ (lanes - 1)
		if v > 0 {
			f(&dst[0], &a[0], v, s)
		}
		if v < n {
			twin(dst[v:], a[v:], s)
		}
	}
}
