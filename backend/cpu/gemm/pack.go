package gemm

import (
	"github.com/rlx-go/rlx/tensor"
)

// packA copies rows×kb of A (row stride lda) into dst as kb groups of rows
// floats: the order the micro-kernel broadcasts them in.
func packA(dst, a []float32, lda, rows, kb int) {
	dst = dst[:rows*kb]
	switch rows {
	case 8:
		if packA8 != nil && kb >= 16 {
			kfull := kb / 16 * 16
			_ = a[7*lda+kfull-1]
			packA8(&dst[0], &a[0], lda, kfull/16)
			if kfull == kb {
				return
			}
			packAGo(dst[kfull*8:], a[kfull:], lda, 8, kb-kfull)
			return
		}
		packAGo(dst, a, lda, rows, kb)
		return
	}
	packAGo(dst, a, lda, rows, kb)
}

// packA8 is the tier's 8-row A packer for 16·kblocks columns, or nil.
var packA8 func(dst, src *float32, lda, kblocks int)

// packAGo is the pure-Go A packer (and packA8's twin).
func packAGo(dst, a []float32, lda, rows, kb int) {
	dst = dst[:rows*kb]
	switch rows {
	case 8:
		r0, r1, r2, r3 := a[:kb], a[lda:lda+kb], a[2*lda:2*lda+kb], a[3*lda:3*lda+kb]
		r4, r5, r6, r7 := a[4*lda:4*lda+kb], a[5*lda:5*lda+kb], a[6*lda:6*lda+kb], a[7*lda:7*lda+kb]
		for p := range kb {
			d := dst[p*8 : p*8+8]
			d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
			d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
		}
		return
	case 12:
		r0, r1, r2, r3 := a[:kb], a[lda:lda+kb], a[2*lda:2*lda+kb], a[3*lda:3*lda+kb]
		r4, r5, r6, r7 := a[4*lda:4*lda+kb], a[5*lda:5*lda+kb], a[6*lda:6*lda+kb], a[7*lda:7*lda+kb]
		r8, r9, r10, r11 := a[8*lda:8*lda+kb], a[9*lda:9*lda+kb], a[10*lda:10*lda+kb], a[11*lda:11*lda+kb]
		for p := range kb {
			d := dst[p*12 : p*12+12]
			d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
			d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
			d[8], d[9], d[10], d[11] = r8[p], r9[p], r10[p], r11[p]
		}
		return
	case 6:
		r0, r1, r2 := a[:kb], a[lda:lda+kb], a[2*lda:2*lda+kb]
		r3, r4, r5 := a[3*lda:3*lda+kb], a[4*lda:4*lda+kb], a[5*lda:5*lda+kb]
		for p := range kb {
			d := dst[p*6 : p*6+6]
			d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
		}
		return
	case 4:
		r0, r1, r2, r3 := a[:kb], a[lda:lda+kb], a[2*lda:2*lda+kb], a[3*lda:3*lda+kb]
		for p := range kb {
			d := dst[p*4 : p*4+4]
			d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
		}
		return
	}
	for i := range rows {
		row := a[i*lda : i*lda+kb]
		for p, v := range row {
			dst[p*rows+i] = v
		}
	}
}

// packB packs columns [n0, n0+nw) × depth [k0, k0+kb) of B into dst as kb
// groups of nr floats (columns past nw are zero).
func packB(t *tier, dst []float32, b *B, ldb, n0, nw, k0, kb, nr int) {
	dst = dst[:kb*nr]
	if b.Layout == KN {
		src := b.F32[k0*ldb+n0:]
		for p := range kb {
			d := dst[p*nr : p*nr+nr]
			copy(d, src[p*ldb:p*ldb+nw])
			clear(d[nw:])
		}
		return
	}
	if t.packNK != nil {
		t.packNK(dst, b, ldb, n0, nw, k0, kb, nr)
		return
	}
	packNKGo(dst, b, ldb, n0, nw, k0, kb, nr)
}

// packNKGo is the pure-Go NK packer: a transpose, converting 16-bit
// weights to float32 on the way.
func packNKGo(dst []float32, b *B, ldb, n0, nw, k0, kb, nr int) {
	dst = dst[:kb*nr]
	if nw < nr {
		clear(dst)
	}
	for j := range nw {
		off := (n0+j)*ldb + k0
		switch b.DType {
		case tensor.F16:
			for p, h := range b.U16[off : off+kb] {
				dst[p*nr+j] = tensor.F16ToF32(h)
			}
		case tensor.BF16:
			for p, h := range b.U16[off : off+kb] {
				dst[p*nr+j] = tensor.BF16ToF32(h)
			}
		default:
			for p, v := range b.F32[off : off+kb] {
				dst[p*nr+j] = v
			}
		}
	}
}
