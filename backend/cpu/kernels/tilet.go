package kernels

import "math"

// The transposed-tile attention kernels: L query slots (L = vector lanes)
// are laid side by side, so scores, the online softmax and the value sums
// all run lane-wise with no horizontal reductions. The twins below repeat
// the assembly's operation order (one fused multiply-add per term), so the
// two agree bit for bit except for rare double roundings in fmaf.

// scoresTGo sets st[j·L+s] = Σ_t k[j·kstride+t]·qt[t·L+s] for j < n.
func scoresTGo(st []float32, L, n int, qt []float32, d int, k []float32, kstride int) {
	for j := range n {
		row := k[j*kstride : j*kstride+d]
		out := st[j*L : (j+1)*L]
		for s := range out {
			var acc float32
			for t, kv := range row {
				acc = fmaf(kv, qt[t*L+s], acc)
			}
			out[s] = acc
		}
	}
}

// softmaxTGo is one lane-wise online-softmax step over the rows of st [n, L].
func softmaxTGo(st []float32, L, n int, m, l, alpha []float32) {
	for s := range L {
		mx := float32(-math.MaxFloat32)
		for j := range n {
			mx = max(mx, st[j*L+s])
		}
		mn := max(m[s], mx)
		alpha[s] = expf(m[s] - mn)
		m[s] = mn
		var sum float32
		for j := range n {
			p := expf(st[j*L+s] - mn)
			st[j*L+s] = p
			sum += p
		}
		l[s] = fmaf(alpha[s], l[s], sum)
	}
}

// pvTGo sets acc[s·d:(s+1)·d] = acc·alpha[s] + Σ_j pt[j·L+s]·v[j·vstride:] for s < L.
func pvTGo(acc []float32, L, d int, alpha, pt []float32, n int, v []float32, vstride int) {
	for s := range L {
		a := acc[s*d : (s+1)*d]
		for c := range a {
			x := a[c] * alpha[s]
			for j := range n {
				x = fmaf(pt[j*L+s], v[j*vstride+c], x)
			}
			a[c] = x
		}
	}
}
