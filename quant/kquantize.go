package quant

import "math"

// The K-quant quantizers below reproduce llama.cpp's reference quantizers
// (used by llama-quantize when no importance matrix is given). Each float32
// operation is written separately, with explicit float32() conversions
// around products that feed a sum: the Go spec lets a compiler fuse x*y+z
// otherwise, which would change the last bit and with it chosen scales.

// groupMaxEps is the magnitude below which a group counts as all zero.
const groupMaxEps = 1e-15

func sqrt32(f float32) float32 { return float32(math.Sqrt(float64(f))) }

func clampI(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// fitScaleMin finds a scale and a (non-positive) offset for n values on the
// grid 0..nmax, minimizing the weighted error (absolute if useMAD, squared
// otherwise) over nstep+1 trial scales. It returns the scale and −offset,
// and leaves the chosen levels in L. aux is scratch of len(x).
func fitScaleMin(nmax int32, x, w []float32, L, aux []uint8, rmin, rdelta float32, nstep int, useMAD bool) (scale, negMin float32) {
	lo, hi := x[0], x[0]
	sumW := w[0]
	sumX := sumW * x[0]
	for i := 1; i < len(x); i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		sumW += w[i]
		sumX += float32(w[i] * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L)
		return 0, -lo
	}
	fmax := float32(nmax)
	iscale := fmax / (hi - lo)
	scale = 1 / iscale
	errOf := func(s, m float32, q []uint8) float32 {
		var e float32
		for i := range x {
			diff := float32(float32(s*float32(q[i]))+m) - x[i]
			if useMAD {
				diff = abs32(diff)
			} else {
				diff = diff * diff
			}
			e += float32(w[i] * diff)
		}
		return e
	}
	for i := range x {
		L[i] = uint8(clampI(nearestInt(iscale*(x[i]-lo)), 0, nmax))
	}
	best := errOf(scale, lo, L)
	for is := 0; is <= nstep; is++ {
		iscale = float32(float32(rmin+float32(rdelta*float32(is)))+fmax) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i := range x {
			l := clampI(nearestInt(iscale*(x[i]-lo)), 0, nmax)
			aux[i] = uint8(l)
			fl := float32(l)
			sumL += float32(w[i] * fl)
			sumL2 += float32(float32(w[i]*fl) * fl)
			sumXL += float32(float32(w[i]*fl) * x[i])
		}
		det := float32(sumW*sumL2) - float32(sumL*sumL)
		if det > 0 {
			s := (float32(sumW*sumXL) - float32(sumX*sumL)) / det
			m := (float32(sumL2*sumX) - float32(sumL*sumXL)) / det
			if m > 0 {
				m = 0
				s = sumXL / sumL2
			}
			if e := errOf(s, m, aux); e < best {
				copy(L, aux)
				best, scale, lo = e, s, m
			}
		}
	}
	return scale, -lo
}

// fitSymmetric finds a scale for n values on the signed grid −nmax..nmax−1
// by trying 19 scales around nmax/max and keeping the best x²-weighted
// least-squares fit. L receives the levels offset by nmax.
func fitSymmetric(nmax int32, x []float32, L []int8) float32 {
	maxv, amax := absMax(x)
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	fmax := float32(nmax)
	iscale := -fmax / maxv
	var sumLX, sumL2 float32
	for i := range x {
		l := clampI(nearestInt(iscale*x[i]), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w := x[i] * x[i]
		fl := float32(l)
		sumLX += float32(float32(w*x[i]) * fl)
		sumL2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fmax + float32(float32(0.1)*float32(is))) / maxv
		sumLX, sumL2 = 0, 0
		for i := range x {
			l := clampI(nearestInt(iscale*x[i]), -nmax, nmax-1)
			w := x[i] * x[i]
			fl := float32(l)
			sumLX += float32(float32(w*x[i]) * fl)
			sumL2 += float32(float32(w*fl) * fl)
		}
		if sumL2 > 0 && float32(sumLX*sumLX) > float32(best*sumL2) {
			for i := range x {
				L[i] = int8(clampI(nearestInt(iscale*x[i]), -nmax, nmax-1) + nmax)
			}
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}

// fitQ3 is Q3_K's group fit: start from nmax/max, then move single levels
// while the x²-weighted fit improves (at most five sweeps). L receives the
// levels offset by nmax.
func fitQ3(nmax int32, x []float32, L []int8) float32 {
	maxv, amax := absMax(x)
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	iscale := -float32(nmax) / maxv
	var sumLX, sumL2 float32
	for i := range x {
		l := clampI(nearestInt(iscale*x[i]), -nmax, nmax-1)
		L[i] = int8(l)
		w := x[i] * x[i]
		fl := float32(l)
		sumLX += float32(float32(w*x[i]) * fl)
		sumL2 += float32(float32(w*fl) * fl)
	}
	for try := 0; try < 5; try++ {
		changed := 0
		for i := range x {
			w := x[i] * x[i]
			fl := float32(L[i])
			slx := sumLX - float32(float32(w*x[i])*fl)
			if slx > 0 {
				sl2 := sumL2 - float32(float32(w*fl)*fl)
				nl := clampI(nearestInt(float32(x[i]*sl2)/slx), -nmax, nmax-1)
				if nl != int32(L[i]) {
					fn := float32(nl)
					slx += float32(float32(w*x[i]) * fn)
					sl2 += float32(float32(w*fn) * fn)
					if sl2 > 0 && float32(float32(slx*slx)*sumL2) > float32(float32(sumLX*sumLX)*sl2) {
						L[i] = int8(nl)
						sumLX, sumL2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range L {
		L[i] += int8(nmax)
	}
	if sumL2 > 0 {
		return sumLX / sumL2
	}
	return 0
}

// pack2bit stores 256 2-bit levels the K-quant way: byte l of each
// 32-byte half holds elements l, l+32, l+64, l+96 of that 128-element half.
func pack2bit(qs []byte, L []uint8) {
	for j := 0; j < qkK; j += 128 {
		for l := 0; l < 32; l++ {
			qs[j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
		}
	}
}

func quantQ2K(b []byte, x []float32) {
	var L [qkK]uint8
	var aux [16]uint8
	var wf [16]float32
	var mins, scales [16]float32
	const q4scale = 15
	var maxScale, maxMin float32
	for j := 0; j < 16; j++ {
		for l := 0; l < 16; l++ {
			wf[l] = abs32(x[16*j+l])
		}
		scales[j], mins[j] = fitScaleMin(3, x[16*j:16*j+16], wf[:], L[16*j:16*j+16], aux[:], -0.5, 0.1, 15, true)
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxMin {
			maxMin = mins[j]
		}
	}
	sc := b[0:16]
	if maxScale > 0 {
		iscale := q4scale / maxScale
		for j := 0; j < 16; j++ {
			sc[j] = uint8(nearestInt(iscale * scales[j]))
		}
		putF16(b[80:], maxScale/q4scale)
	} else {
		clear(sc)
		putF16(b[80:], 0)
	}
	if maxMin > 0 {
		iscale := q4scale / maxMin
		for j := 0; j < 16; j++ {
			sc[j] |= uint8(nearestInt(iscale*mins[j]) << 4)
		}
		putF16(b[82:], maxMin/q4scale)
	} else {
		putF16(b[82:], 0)
	}
	d, dmin := f16(b[80:]), f16(b[82:])
	for j := 0; j < 16; j++ {
		dj := d * float32(sc[j]&0xf)
		if dj == 0 {
			continue
		}
		dm := dmin * float32(sc[j]>>4)
		for i := 0; i < 16; i++ {
			L[16*j+i] = uint8(clampI(nearestInt((x[16*j+i]+dm)/dj), 0, 3))
		}
	}
	pack2bit(b[16:80], L[:])
}

func quantQ3K(b []byte, x []float32) {
	var L [qkK]int8
	var scales [16]float32
	var maxScale, amax float32
	for j := 0; j < 16; j++ {
		scales[j] = fitQ3(4, x[16*j:16*j+16], L[16*j:16*j+16])
		if s := abs32(scales[j]); s > amax {
			amax, maxScale = s, scales[j]
		}
	}
	sc := b[96:108]
	clear(sc)
	if maxScale != 0 {
		iscale := -32 / maxScale
		for j := 0; j < 16; j++ {
			l := int8(nearestInt(iscale * scales[j]))
			l = max(-32, min(31, l)) + 32
			if j < 8 {
				sc[j] = byte(l) & 0xf
			} else {
				sc[j-8] |= (byte(l) & 0xf) << 4
			}
			l >>= 4
			sc[8+j%4] |= byte(l) << (2 * (j / 4))
		}
		putF16(b[108:], 1/iscale)
	} else {
		putF16(b[108:], 0)
	}
	dAll := f16(b[108:])
	s := q3kScales(sc)
	for j := 0; j < 16; j++ {
		d := dAll * float32(s[j])
		if d == 0 {
			continue
		}
		for i := 0; i < 16; i++ {
			L[16*j+i] = int8(clampI(nearestInt(x[16*j+i]/d), -4, 3) + 4)
		}
	}
	hm := b[0:32]
	clear(hm)
	var U [qkK]uint8
	for j := 0; j < qkK; j++ {
		v := uint8(L[j])
		if v > 3 {
			hm[j%32] |= 1 << (j / 32)
			v -= 4
		}
		U[j] = v
	}
	pack2bit(b[32:96], U[:])
}

// packScalesK4 stores eight 6-bit scales and mins in Q4_K/Q5_K's 12 bytes.
func packScalesK4(s []byte, ls, lm *[8]uint8) {
	for j := 0; j < 8; j++ {
		if j < 4 {
			s[j] = ls[j]
			s[j+4] = lm[j]
		} else {
			s[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			s[j-4] |= (ls[j] >> 4) << 6
			s[j] |= (lm[j] >> 4) << 6
		}
	}
}

// quantK45 is the shared body of Q4_K and Q5_K: groups of 32 fitted with
// weights |x| + rms(group), scales and mins quantized to 6 bits against the
// block maxima, then every value re-quantized with the rounded scales.
// It returns the levels (0..nmax) and writes d, dmin and the scales to hdr.
func quantK45(hdr []byte, x []float32, nmax int32, rmin float32, nstep int) [qkK]uint8 {
	var L [qkK]uint8
	var aux [32]uint8
	var w [32]float32
	var mins, scales [8]float32
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := sqrt32(sumX2 / 32)
		for l, v := range xs {
			w[l] = avX + abs32(v)
		}
		scales[j], mins[j] = fitScaleMin(nmax, xs, w[:], L[32*j:32*j+32], aux[:], rmin, 0.1, nstep, false)
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxMin {
			maxMin = mins[j]
		}
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	var ls, lm [8]uint8
	for j := 0; j < 8; j++ {
		ls[j] = min(63, uint8(nearestInt(invScale*scales[j])))
		lm[j] = min(63, uint8(nearestInt(invMin*mins[j])))
	}
	sc := hdr[4:16]
	clear(sc)
	packScalesK4(sc, &ls, &lm)
	putF16(hdr, maxScale/63)
	putF16(hdr[2:], maxMin/63)
	d, dmin := f16(hdr), f16(hdr[2:])
	for j := 0; j < 8; j++ {
		s, m := scaleMinK4(j, sc)
		dj := d * float32(s)
		if dj == 0 {
			continue
		}
		dm := dmin * float32(m)
		for i := 0; i < 32; i++ {
			L[32*j+i] = uint8(clampI(nearestInt((x[32*j+i]+dm)/dj), 0, nmax))
		}
	}
	return L
}

func quantQ4K(b []byte, x []float32) {
	L := quantK45(b[0:16], x, 15, -1, 20)
	q := b[16:144]
	for j := 0; j < qkK; j += 64 {
		for l := 0; l < 32; l++ {
			q[l] = L[j+l] | L[j+l+32]<<4
		}
		q = q[32:]
	}
}

func quantQ5K(b []byte, x []float32) {
	L := quantK45(b[0:16], x, 31, -0.5, 15)
	qh := b[16:48]
	ql := b[48:176]
	clear(qh)
	m1, m2 := byte(1), byte(2)
	for n := 0; n < qkK; n += 64 {
		for j := 0; j < 32; j++ {
			l1, l2 := L[n+j], L[n+j+32]
			if l1 > 15 {
				l1 -= 16
				qh[j] |= m1
			}
			if l2 > 15 {
				l2 -= 16
				qh[j] |= m2
			}
			ql[j] = l1 | l2<<4
		}
		m1 <<= 2
		m2 <<= 2
		ql = ql[32:]
	}
}

func quantQ6K(b []byte, x []float32) {
	var L [qkK]int8
	var scales [16]float32
	var maxScale, maxAbs float32
	for j := 0; j < 16; j++ {
		scales[j] = fitSymmetric(32, x[16*j:16*j+16], L[16*j:16*j+16])
		if a := abs32(scales[j]); a > maxAbs {
			maxAbs, maxScale = a, scales[j]
		}
	}
	if maxAbs < groupMaxEps {
		clear(b)
		return
	}
	iscale := -128 / maxScale
	putF16(b[208:], 1/iscale)
	sc := b[192:208]
	for j := 0; j < 16; j++ {
		sc[j] = byte(int8(min(127, nearestInt(iscale*scales[j]))))
	}
	d := f16(b[208:])
	for j := 0; j < 16; j++ {
		dj := d * float32(int8(sc[j]))
		if dj == 0 {
			continue
		}
		for i := 0; i < 16; i++ {
			L[16*j+i] = int8(clampI(nearestInt(x[16*j+i]/dj), -32, 31) + 32)
		}
	}
	ql, qh := b[0:128], b[128:192]
	for j := 0; j < qkK; j += 128 {
		for l := 0; l < 32; l++ {
			q1, q2, q3, q4 := uint8(L[j+l]), uint8(L[j+l+32]), uint8(L[j+l+64]), uint8(L[j+l+96])
			ql[l] = q1&0xf | (q3&0xf)<<4
			ql[l+32] = q2&0xf | (q4&0xf)<<4
			qh[l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
		}
		ql, qh = ql[64:], qh[32:]
	}
}
