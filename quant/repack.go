package quant

import "encoding/binary"

// Kernel layouts. Repacking keeps the number of quant bytes; it moves bits
// so that one 64-byte load yields 64 consecutive elements after at most a
// shift and a mask, and splits per-block headers from the quants so that
// quant loads are 64-byte aligned.
//
//   - Q8_0: per row, K bytes q+128 (unsigned, for VPDPBUSD), padded to 64;
//     block scales (fp16) in m.scales, padded to a multiple of 16 blocks
//     with zeros.
//   - Q4_0: per row, each 128 elements in 64 bytes: byte i holds element i
//     in its low nibble and element 64+i in its high nibble; scales as Q8_0.
//   - Q4_K: per row, nsb×128 nibble bytes (each 128 elements as Q4_0's),
//     then nsb×16 header bytes (d, dmin, 12 bytes of scales, unchanged).
//   - Q5_K: per row, nsb×128 nibble bytes as Q4_K, nsb×32 bytes of fifth
//     bits (four little-endian uint64 masks, bit i of mask c for element
//     64c+i), then nsb×16 header bytes.
//   - Q6_K: ggml's layout (its ql/qh arrangement already suits the kernel).
//
// Every repacked buffer carries repackSlack spare bytes at its end, so the
// assembly may read a whole 512-element group past a row's last block
// (those bytes meet zero activations and zero scales).
const repackSlack = 512

func roundUp(n, m int) int { return (n + m - 1) / m * m }

func (m *Matrix) repack32(bits int) {
	K, bb := m.cols, m.dtype.BlockBytes()
	nb := K / 32
	src := m.data
	var stride int
	if bits == 8 {
		stride = roundUp(K, 64)
	} else {
		stride = roundUp(K, 128) / 2
	}
	nsPad := roundUp(nb, 16)
	out := make([]byte, m.rows*stride+repackSlack)
	sc := make([]byte, m.rows*nsPad*2)
	var vals [128]uint8
	for r := 0; r < m.rows; r++ {
		row := src[r*m.stride : (r+1)*m.stride]
		dst := out[r*stride : (r+1)*stride]
		for b := 0; b < nb; b++ {
			blk := row[b*bb : (b+1)*bb]
			copy(sc[(r*nsPad+b)*2:], blk[:2])
			if bits == 8 {
				for j := 0; j < 32; j++ {
					dst[32*b+j] = blk[2+j] ^ 0x80
				}
			}
		}
		if bits == 8 {
			for i := K; i < stride; i++ {
				dst[i] = 0x80
			}
			continue
		}
		for g := 0; g < stride/64; g++ {
			for e := 0; e < 128; e++ {
				vals[e] = 8 // a zero weight, for padding
				if b := (128*g + e) / 32; b < nb {
					j := e % 32
					q := row[b*bb+2+j%16]
					if j >= 16 {
						q >>= 4
					}
					vals[e] = q & 0xf
				}
			}
			packNibbles128(dst[64*g:64*g+64], vals[:])
		}
	}
	m.data, m.stride, m.scales, m.sstride = out, stride, sc, nsPad*2
}

// packNibbles128 stores 128 4-bit values: byte i = v[i] | v[64+i]<<4.
func packNibbles128(dst []byte, v []uint8) {
	for i := 0; i < 64; i++ {
		dst[i] = v[i]&0xf | v[64+i]<<4
	}
}

// kquantLevels256 decodes the 4-bit part of ggml's Q4_K/Q5_K quants: each
// 32 bytes hold 64 elements, low nibbles first.
func kquantNibbles(qs []byte, v *[qkK]uint8) {
	for j := 0; j < 4; j++ {
		for l := 0; l < 32; l++ {
			v[64*j+l] = qs[32*j+l] & 0xf
			v[64*j+32+l] = qs[32*j+l] >> 4
		}
	}
}

func (m *Matrix) repackQ4K() {
	nsb := m.cols / qkK
	stride := roundUp(nsb*144, 64)
	out := make([]byte, m.rows*stride+repackSlack)
	var v [qkK]uint8
	for r := 0; r < m.rows; r++ {
		row := m.data[r*m.stride : (r+1)*m.stride]
		dst := out[r*stride : (r+1)*stride]
		for s := 0; s < nsb; s++ {
			blk := row[s*144 : (s+1)*144]
			copy(dst[nsb*128+16*s:], blk[:16])
			kquantNibbles(blk[16:144], &v)
			packNibbles128(dst[128*s:], v[:128])
			packNibbles128(dst[128*s+64:], v[128:])
		}
	}
	m.data, m.stride = out, stride
}

func (m *Matrix) repackQ5K() {
	nsb := m.cols / qkK
	stride := roundUp(nsb*176, 64)
	out := make([]byte, m.rows*stride+repackSlack)
	var v [qkK]uint8
	for r := 0; r < m.rows; r++ {
		row := m.data[r*m.stride : (r+1)*m.stride]
		dst := out[r*stride : (r+1)*stride]
		for s := 0; s < nsb; s++ {
			blk := row[s*176 : (s+1)*176]
			copy(dst[nsb*160+16*s:], blk[:16])
			kquantNibbles(blk[48:176], &v)
			qh := blk[16:48]
			for c := 0; c < 4; c++ {
				var mask uint64
				for i := 0; i < 64; i++ {
					// element 64c+i takes bit 2c (i < 32) or 2c+1 of qh[i%32]
					bit := uint(2*c + i/32)
					if qh[i%32]>>bit&1 != 0 {
						mask |= 1 << uint(i)
					}
				}
				binary.LittleEndian.PutUint64(dst[nsb*128+32*s+8*c:], mask)
			}
			packNibbles128(dst[128*s:], v[:128])
			packNibbles128(dst[128*s+64:], v[128:])
		}
	}
	m.data, m.stride = out, stride
}
