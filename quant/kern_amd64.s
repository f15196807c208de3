//go:build amd64

#include "textflag.h"

// The K-quant row kernels (Q4_K, Q5_K, Q6_K) prefetch their weights in
// software into L2 (PREFETCHT1): with the hardware prefetchers alone Q4_K
// GEMV ran about 2x slower on Zen 5. A run of rows is one contiguous byte
// stream (each row's nibbles, then its other parts), and the kernels
// prefetch it as one: R9 points AHEAD bytes past the current row's start
// plus s·B for super-block s, where B = ⌈stride/nsb⌉, and every
// super-block prefetches the three (Q4_K) or four (Q5_K, Q6_K) lines from
// R9 on. B is at most 192 for Q4_K and 256 for Q5_K/Q6_K (stride ≤ nsb·210 rounded up to
// 64), so consecutive super-blocks' ranges overlap and a row's last one
// reaches the next row's first: every line is prefetched, evenly over the
// row. (Earlier schemes: per stream a fixed distance ahead bunched the
// header lines; whole rows at each row start, for Q5_K/Q6_K, issued 27–105
// prefetches at once; both measured 1.3–2.5x slower, docs/PERFORMANCE.md.)
//
// AHEAD = max(KPFMIN, stride + KPFROW) bytes: short rows want about 6 KiB
// ahead, K = 8192 rows (4.6–6.6 KiB) about a row plus 2 KiB
// (in-process A/B at Llama-1B decode shapes, two threads, 08:00 UTC).
#define KPFMIN 6144
#define KPFROW 2048

// KLINSETUP sets R10 = B (0 for the single-row test forms, whose stride is
// 0) and R8 = AHEAD, and prefetches the first AHEAD bytes, which no
// super-block covers. It clobbers AX, CX, DX.
#define KLINSETUP(BOK, AHOK, FIRST) \
	MOVQ  stride+8(FP), AX \
	MOVQ  nsb+32(FP), CX \
	TESTQ CX, CX \
	JZ    BOK \
	ADDQ  CX, AX \
	DECQ  AX \
	XORQ  DX, DX \
	DIVQ  CX \
BOK: \
	MOVQ  AX, R10 \
	MOVQ  stride+8(FP), R8 \
	ADDQ  $KPFROW, R8 \
	CMPQ  R8, $KPFMIN \
	JGE   AHOK \
	MOVQ  $KPFMIN, R8 \
AHOK: \
	XORQ  AX, AX \
FIRST: \
	PREFETCHT1 (R13)(AX*1) \
	ADDQ  $64, AX \
	CMPQ  AX, R8 \
	JLT   FIRST

// KPF3 and KPF4 prefetch the next stretch of the stream and advance R9.
#define KPF3 \
	PREFETCHT1 (R9) \
	PREFETCHT1 64(R9) \
	PREFETCHT1 128(R9) \
	ADDQ R10, R9

#define KPF4 \
	PREFETCHT1 (R9) \
	PREFETCHT1 64(R9) \
	PREFETCHT1 128(R9) \
	PREFETCHT1 192(R9) \
	ADDQ R10, R9

// AVX-512 VNNI dot products of one repacked weight row with one row of
// quantized activations (layouts in repack.go and matrix.go). VPDPBUSD
// multiplies unsigned weight bytes by signed activation bytes and adds
// groups of four into 32-bit lanes; scales are applied per lane, so no
// horizontal sum is needed until the end of the row.

// hsum reduces the 16 float32 lanes of Z0 into X0[0].
#define HSUM_Z0 \
	VEXTRACTF64X4 $1, Z0, Y1 \
	VADDPS        Y1, Y0, Y0 \
	VEXTRACTF128  $1, Y0, X1 \
	VADDPS        X1, X0, X0 \
	VPERMILPS     $0x4e, X0, X1 \
	VADDPS        X1, X0, X0 \
	VPERMILPS     $0xb1, X0, X1 \
	VADDPS        X1, X0, X0

// 32-block kernels work on groups of sixteen blocks (512 elements) whose
// bytes are laid out so that lane L of every 64-byte chunk belongs to block
// L (see repack.go): eight VPDPBUSD leave the sixteen block sums in the
// lanes of one register, which the sixteen dw·dx scales multiply directly.
// SI walks the weights, DI the activations, R8 the fp16 block scales, R9
// the activation scales dx, R10 the activation terms dx·Σx.

// G32SCALE adds group sums Z5+Z6 scaled by dw·dx to Z0, and dw·dx·Σx to Z1.
#define G32SCALE \
	VPADDD      Z6, Z5, Z5 \
	VCVTDQ2PS   Z5, Z5 \
	VCVTPH2PS   (R8), Z2 \
	VMULPS      (R9), Z2, Z3 \
	VFMADD231PS Z3, Z5, Z0 \
	VFMADD231PS (R10), Z2, Z1

// ROW32START begins one weight row: R11, R12 walk the rows of weights and
// scales, R13 counts rows, BX walks out.
#define ROW32START \
	MOVQ R11, SI \
	MOVQ R12, R8 \
	MOVQ qs+40(FP), DI \
	MOVQ d+48(FP), R9 \
	MOVQ s+56(FP), R10 \
	MOVQ nb+64(FP), CX \
	SHRQ $4, CX \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1

#define ROWS32PROLOGUE \
	MOVQ w+0(FP), R11 \
	MOVQ sc+16(FP), R12 \
	MOVQ rows+32(FP), R13 \
	MOVQ out+72(FP), BX

// ROW32END stores Z0 − OFF·Z1 (OFF a float32 bit pattern) and moves on.
#define ROW32END(OFF, LOOP) \
	MOVL         OFF, AX \
	VPBROADCASTD AX, Z2 \
	VFNMADD231PS Z2, Z1, Z0 \
	HSUM_Z0 \
	MOVSS        X0, (BX) \
	ADDQ         $4, BX \
	ADDQ         stride+8(FP), R11 \
	ADDQ         sstride+24(FP), R12 \
	DECQ         R13 \
	JNZ          LOOP \
	VZEROUPPER \
	RET

// KROWSTART begins one weight row: R13 walks the rows, R12 counts them,
// R11 walks out.
#define KROWSTART \
	MOVQ R13, SI \
	MOVQ x+24(FP), BX \
	MOVQ nsb+32(FP), CX \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1

#define KROWSPROLOGUE \
	MOVQ w+0(FP), R13 \
	MOVQ rows+16(FP), R12 \
	MOVQ out+40(FP), R11

#define KROWEND(LOOP) \
	VSUBPS Z1, Z0, Z0 \
	HSUM_Z0 \
	MOVSS  X0, (R11) \
	ADDQ   $4, R11 \
	ADDQ   stride+8(FP), R13 \
	DECQ   R12 \
	JNZ    LOOP \
	VZEROUPPER \
	RET

// func dotQ8_0RowsVNNI(w *byte, stride int, sc *byte, sstride, rows int, qs *int8, d, s *float32, nb int, out *float32)
TEXT ·dotQ8_0RowsVNNI(SB), NOSPLIT, $0-80
	ROWS32PROLOGUE

q8row:
	ROW32START
	TESTQ CX, CX
	JZ    q8done

q8loop:
	VPXORD    Z5, Z5, Z5
	VPXORD    Z6, Z6, Z6
	VMOVDQU64 0(SI), Z8
	VMOVDQU64 64(SI), Z9
	VMOVDQU64 128(SI), Z10
	VMOVDQU64 192(SI), Z11
	VPDPBUSD  0(DI), Z8, Z5
	VPDPBUSD  64(DI), Z9, Z6
	VPDPBUSD  128(DI), Z10, Z5
	VPDPBUSD  192(DI), Z11, Z6
	VMOVDQU64 256(SI), Z8
	VMOVDQU64 320(SI), Z9
	VMOVDQU64 384(SI), Z10
	VMOVDQU64 448(SI), Z11
	VPDPBUSD  256(DI), Z8, Z5
	VPDPBUSD  320(DI), Z9, Z6
	VPDPBUSD  384(DI), Z10, Z5
	VPDPBUSD  448(DI), Z11, Z6
	G32SCALE
	ADDQ $512, SI
	ADDQ $512, DI
	ADDQ $32, R8
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ CX
	JNZ  q8loop

q8done:
	ROW32END($0x43000000, q8row) // Z0 − 128·Z1

// Q4CHUNKS unpacks 64 bytes at OFF(SI) into two chunks and multiplies them
// by the activations at AOFF(DI) and AOFF+64(DI).
#define Q4CHUNKS(OFF, AOFF, AOFF2) \
	VMOVDQU64 OFF(SI), Z8 \
	VPSRLW    $4, Z8, Z9 \
	VPANDD    Z7, Z8, Z8 \
	VPANDD    Z7, Z9, Z9 \
	VPDPBUSD  AOFF(DI), Z8, Z5 \
	VPDPBUSD  AOFF2(DI), Z9, Z6

// func dotQ4_0RowsVNNI(w *byte, stride int, sc *byte, sstride, rows int, qs *int8, d, s *float32, nb int, out *float32)
TEXT ·dotQ4_0RowsVNNI(SB), NOSPLIT, $0-80
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	ROWS32PROLOGUE

q4row:
	ROW32START
	TESTQ CX, CX
	JZ    q4done

q4loop:
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	Q4CHUNKS(0, 0, 64)
	Q4CHUNKS(64, 128, 192)
	Q4CHUNKS(128, 256, 320)
	Q4CHUNKS(192, 384, 448)
	G32SCALE
	ADDQ $256, SI
	ADDQ $512, DI
	ADDQ $32, R8
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ CX
	JNZ  q4loop

q4done:
	ROW32END($0x41000000, q4row) // Z0 − 8·Z1

// K-quant super-blocks. SI walks the nibbles (128 bytes per super-block),
// DX the headers, BX the activations (actKBytes per super-block, values in
// the same chunk order). The four chunks of a super-block accumulate into
// one register with VPDPBUSD: lane L always holds scale group L%8 (Q4_K,
// Q5_K) or L (Q6_K), so each lane is scaled once per super-block.

// KNIBBLES loads the 256 low nibbles of a super-block into Z8..Z11.
#define KNIBBLES \
	VMOVDQU64 0(SI), Z8 \
	VPSRLW    $4, Z8, Z9 \
	VPANDD    Z7, Z8, Z8 \
	VPANDD    Z7, Z9, Z9 \
	VMOVDQU64 64(SI), Z10 \
	VPSRLW    $4, Z10, Z11 \
	VPANDD    Z7, Z10, Z10 \
	VPANDD    Z7, Z11, Z11

// KDOT multiplies the four chunks by the activations into Z5.
#define KDOT \
	VPXORD   Z5, Z5, Z5 \
	VPDPBUSD 0(BX), Z8, Z5 \
	VPDPBUSD 64(BX), Z9, Z5 \
	VPDPBUSD 128(BX), Z10, Z5 \
	VPDPBUSD 192(BX), Z11, Z5

// K45SCALE finishes a Q4_K/Q5_K super-block: Z0 += d·dx·Σ sc·dot lane-wise,
// Y1 += dmin·dx·m_j·Σx_j.
#define K45SCALE \
	VPMOVZXBD    4(DX), Y12 \
	VINSERTI64X4 $1, Y12, Z12, Z12 \
	VPMULLD      Z12, Z5, Z5 \
	VCVTDQ2PS    Z5, Z5 \
	VPBROADCASTW 0(DX), Y13 \
	VCVTPH2PS    Y13, Z13 \
	VMULPS.BCST  320(BX), Z13, Z13 \
	VFMADD231PS  Z13, Z5, Z0 \
	VPMOVZXBD    12(DX), Y14 \
	VPMULLD      256(BX), Y14, Y14 \
	VCVTDQ2PS    Y14, Y14 \
	VPBROADCASTW 2(DX), X15 \
	VCVTPH2PS    X15, Y15 \
	VMULPS.BCST  320(BX), Y15, Y15 \
	VFMADD231PS  Y15, Y14, Y1

// func dotQ4KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32)
TEXT ·dotQ4KRowsVNNI(SB), NOSPLIT, $0-48
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	KROWSPROLOGUE
	KLINSETUP(q4kb, q4kah, q4kfirst)

q4krow:
	KROWSTART
	MOVQ CX, DX
	SHLQ $7, DX
	ADDQ SI, DX              // headers follow the nibbles
	LEAQ (SI)(R8*1), R9
	TESTQ CX, CX
	JZ    q4kdone

q4kloop:
	KPF3
	KNIBBLES
	KDOT
	K45SCALE
	ADDQ $128, SI
	ADDQ $20, DX
	ADDQ $384, BX
	DECQ CX
	JNZ  q4kloop

q4kdone:
	KROWEND(q4krow)

// func dotQ5KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32)
TEXT ·dotQ5KRowsVNNI(SB), NOSPLIT, $0-48
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	MOVL         $0x10101010, AX
	VPBROADCASTD AX, Z16
	KROWSPROLOGUE
	KLINSETUP(q5kb, q5kah, q5kfirst)

q5krow:
	KROWSTART
	LEAQ (SI)(R8*1), R9
	MOVQ CX, DI
	SHLQ $7, DI
	ADDQ SI, DI              // fifth-bit masks follow the nibbles
	MOVQ CX, DX
	SHLQ $5, DX
	ADDQ DI, DX              // then the headers
	TESTQ CX, CX
	JZ    q5kdone

q5kloop:
	KPF4
	KNIBBLES
	KMOVQ  0(DI), K1
	KMOVQ  8(DI), K2
	KMOVQ  16(DI), K3
	KMOVQ  24(DI), K4
	VPADDB Z16, Z8, K1, Z8
	VPADDB Z16, Z9, K2, Z9
	VPADDB Z16, Z10, K3, Z10
	VPADDB Z16, Z11, K4, Z11
	KDOT
	K45SCALE
	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $20, DX
	ADDQ $384, BX
	DECQ CX
	JNZ  q5kloop

q5kdone:
	KROWEND(q5krow)

// func dotQ6KRowsVNNI(w *byte, stride, rows int, x *byte, nsb int, out *float32)
TEXT ·dotQ6KRowsVNNI(SB), NOSPLIT, $0-48
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	MOVL         $0x30303030, AX
	VPBROADCASTD AX, Z22
	KROWSPROLOGUE
	KLINSETUP(q6kb, q6kah, q6kfirst)

q6krow:
	KROWSTART
	LEAQ (SI)(R8*1), R9
	MOVQ CX, DI
	SHLQ $7, DI
	ADDQ SI, DI              // high bit pairs follow the nibbles
	MOVQ CX, DX
	SHLQ $6, DX
	ADDQ DI, DX              // then scales and d
	TESTQ CX, CX
	JZ    q6kdone

q6kloop:
	KPF4
	KNIBBLES
	VMOVDQU64  0(DI), Z17
	VPSLLW     $4, Z17, Z18
	VPTERNLOGD $0xf8, Z22, Z18, Z8
	VPSLLW     $2, Z17, Z18
	VPTERNLOGD $0xf8, Z22, Z18, Z9
	VPTERNLOGD $0xf8, Z22, Z17, Z10
	VPSRLW     $2, Z17, Z18
	VPTERNLOGD $0xf8, Z22, Z18, Z11
	KDOT
	VPSUBD       256(BX), Z5, Z5  // the −32 offset: 32·Σx per group
	VPMOVSXBD    0(DX), Z12
	VPMULLD      Z12, Z5, Z5
	VCVTDQ2PS    Z5, Z5
	VPBROADCASTW 16(DX), Y13
	VCVTPH2PS    Y13, Z13
	VMULPS.BCST  320(BX), Z13, Z13
	VFMADD231PS  Z13, Z5, Z0
	ADDQ $128, SI
	ADDQ $64, DI
	ADDQ $18, DX
	ADDQ $384, BX
	DECQ CX
	JNZ  q6kloop

q6kdone:
	KROWEND(q6krow)
