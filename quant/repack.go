package quant

import "encoding/binary"

// Kernel layouts. Repacking keeps the number of quant bytes; it moves bits
// so that one 64-byte load yields 64 consecutive elements after at most a
// shift and a mask, and splits per-block headers from the quants so that
// quant loads are whole 64-byte vectors (aligned for Q8_0 and Q4_0; K-quant
// rows follow each other unpadded, so theirs are aligned only where a row
// starts on a 64-byte boundary).
//
//   - Q8_0 and Q4_0: K is padded to a multiple of 512 (sixteen blocks, a
//     "group"); within a group the bytes are visited as eight 64-byte
//     chunks where 32-bit lane L of every chunk belongs to block L
//     (groupPos), so the kernel sums a whole group with VPDPBUSD into one
//     register whose lanes are the sixteen block sums. Q8_0 stores q+128
//     (unsigned, for VPDPBUSD), one byte per element; Q4_0 stores the
//     nibbles of chunks 2q and 2q+1 in the low and high halves of 64 bytes.
//     Block scales (fp16) go to m.scales, padded with zeros to whole groups.
//   - K-quants: the 256 elements of a super-block are visited as four
//     64-byte "chunks" in an order (kchunkOrder) that puts every scale
//     group in fixed 32-bit lanes, so the kernels accumulate all four
//     chunks with VPDPBUSD and scale each lane once per super-block.
//     Activations are permuted the same way (see actK). Per row:
//     Q4_K: nsb×128 nibble bytes (byte p of the first 64 holds chunk 0 at
//     p in its low nibble and chunk 1 in its high nibble; the next 64 hold
//     chunks 2 and 3), then nsb×20 header bytes: fp16 d, fp16 dmin, eight
//     6-bit scales and eight mins as bytes.
//     Q5_K: nibbles as Q4_K, nsb×32 bytes of fifth bits (four uint64 masks,
//     bit p of mask c for chunk c position p), then headers as Q4_K.
//     Q6_K: nibbles as Q4_K, nsb×64 bytes of high bit pairs (byte p: chunk
//     c's bits in bits 2c, 2c+1), then nsb×18 bytes: sixteen int8 scales and
//     fp16 d.
//
// Every repacked buffer carries repackSlack spare bytes at its end, so the
// assembly may read a whole 512-element group past a row's last block
// (those bytes meet zero activations and zero scales).
const repackSlack = 512

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// groupPos maps element e of a 512-element group of sixteen 32-blocks to
// its position: chunk c = (e%32)/4 of 64 bytes, lane L = e/32 (the block),
// byte t = e%4, so lane L of every chunk belongs to block L.
func groupPos(e int) int { return 64*((e%32)/4) + 4*(e/32) + e%4 }

func (m *Matrix) repack32(bits int) {
	K, bb := m.cols, m.dtype.BlockBytes()
	nb := K / 32
	kp := roundUp(K, blockGroup)
	stride := kp
	if bits == 4 {
		stride = kp / 2
	}
	nsPad := kp / 32
	out := m.allocWeights(m.rows*stride + repackSlack)
	sc := m.allocWeights(m.rows * nsPad * 2)
	var lv [blockGroup]uint8
	for r := 0; r < m.rows; r++ {
		row := m.data[r*m.stride : (r+1)*m.stride]
		dst := out[r*stride : (r+1)*stride]
		for g := 0; g < kp/blockGroup; g++ {
			for e := 0; e < blockGroup; e++ {
				b, j := (blockGroup*g+e)/32, e%32
				var v uint8 // padding: a zero weight
				switch {
				case bits == 8 && b < nb:
					v = row[b*bb+2+j] ^ 0x80
				case bits == 8:
					v = 0x80
				case b < nb:
					v = row[b*bb+2+j%16]
					if j >= 16 {
						v >>= 4
					}
					v &= 0xf
				default:
					v = 8
				}
				lv[groupPos(e)] = v
			}
			if bits == 8 {
				copy(dst[blockGroup*g:], lv[:])
				continue
			}
			for q := 0; q < 4; q++ { // chunks 2q (low nibbles) and 2q+1
				for p := 0; p < 64; p++ {
					dst[256*g+64*q+p] = lv[128*q+p] | lv[128*q+64+p]<<4
				}
			}
		}
		for b := 0; b < nb; b++ {
			copy(sc[(r*nsPad+b)*2:], row[b*bb:b*bb+2])
		}
	}
	m.data, m.stride, m.scales, m.sstride = out, stride, sc, nsPad*2
}

// kchunkOrder maps (chunk c, byte p) of a super-block to the element it
// holds. group is the scale-group size: 32 for Q4_K/Q5_K (lane L carries
// group L%8), 16 for Q6_K (lane L carries group L).
func kchunkElem(group, c, p int) int {
	L, t := p/4, p%4
	if group == 32 {
		j, h := L%8, L/8
		return 32*j + 8*c + 4*h + t
	}
	return 16*L + 4*c + t
}

var kchunkOrder32, kchunkOrder16 = kchunkTable(32), kchunkTable(16)

func kchunkTable(group int) (t [qkK]uint16) {
	for c := 0; c < 4; c++ {
		for p := 0; p < 64; p++ {
			t[64*c+p] = uint16(kchunkElem(group, c, p))
		}
	}
	return t
}

// packChunks stores 256 levels (natural order) as chunk nibbles.
func packChunks(dst []byte, v *[qkK]uint8, order *[qkK]uint16) {
	for p := 0; p < 64; p++ {
		for g := 0; g < 2; g++ {
			lo := v[order[64*(2*g)+p]] & 0xf
			hi := v[order[64*(2*g+1)+p]] & 0xf
			dst[64*g+p] = lo | hi<<4
		}
	}
}

// kHeader45 writes the 20-byte Q4_K/Q5_K kernel header from ggml's 16.
func kHeader45(dst, src []byte) {
	copy(dst[:4], src[:4])
	for j := 0; j < 8; j++ {
		dst[4+j], dst[12+j] = scaleMinK4(j, src[4:16])
	}
}

func (m *Matrix) repackK() {
	nsb := m.cols / qkK
	var hdr, extra int // header bytes, bytes between nibbles and headers
	switch m.kind {
	case kindQ4K:
		hdr = 20
	case kindQ5K:
		hdr, extra = 20, 32
	default:
		hdr, extra = 18, 64
	}
	// Rows follow each other without padding: a decode step streams every
	// byte, and rounding rows up to 64 bytes cost Q4_K 2.8% and Q6_K 2.9%
	// more bytes than the file at K = 2048 (unaligned 64-byte loads cost
	// the kernels little next to that).
	stride := nsb * (128 + extra + hdr)
	out := m.allocWeights(m.rows*stride + repackSlack)
	var v [qkK]uint8
	for r := 0; r < m.rows; r++ {
		row := m.data[r*m.stride : (r+1)*m.stride]
		dst := out[r*stride : (r+1)*stride]
		ex := dst[nsb*128:]
		hd := dst[nsb*(128+extra):]
		for s := 0; s < nsb; s++ {
			blk := row[s*m.dtype.BlockBytes() : (s+1)*m.dtype.BlockBytes()]
			switch m.kind {
			case kindQ4K:
				kquantNibbles(blk[16:144], &v)
				kHeader45(hd[hdr*s:], blk)
				packChunks(dst[128*s:], &v, &kchunkOrder32)
			case kindQ5K:
				kquantNibbles(blk[48:176], &v)
				for i := 0; i < qkK; i++ {
					// fifth bit of element i: bit 2(i/64) + (i%64)/32 of qh[i%32]
					if blk[16+i%32]>>(2*(i/64)+(i%64)/32)&1 != 0 {
						v[i] |= 16
					}
				}
				kHeader45(hd[hdr*s:], blk)
				packChunks(dst[128*s:], &v, &kchunkOrder32)
				for c := 0; c < 4; c++ {
					var mask uint64
					for p := 0; p < 64; p++ {
						mask |= uint64(v[kchunkOrder32[64*c+p]]>>4) << p
					}
					binary.LittleEndian.PutUint64(ex[32*s+8*c:], mask)
				}
			default:
				for i := 0; i < qkK; i++ {
					v[i] = uint8(q6kValue(blk[0:128], blk[128:192], i))
				}
				packChunks(dst[128*s:], &v, &kchunkOrder16)
				for p := 0; p < 64; p++ {
					var b byte
					for c := 0; c < 4; c++ {
						b |= (v[kchunkOrder16[64*c+p]] >> 4) << (2 * c)
					}
					ex[64*s+p] = b
				}
				copy(hd[hdr*s:], blk[192:210])
			}
		}
	}
	m.data, m.stride = out, stride
}

// kquantNibbles decodes the 4-bit part of ggml's Q4_K/Q5_K quants: each
// 32 bytes hold 64 elements, low nibbles first.
func kquantNibbles(qs []byte, v *[qkK]uint8) {
	for j := 0; j < 4; j++ {
		for l := 0; l < 32; l++ {
			v[64*j+l] = qs[32*j+l] & 0xf
			v[64*j+32+l] = qs[32*j+l] >> 4
		}
	}
}
