//go:build amd64

#include "textflag.h"

// AVX2 twins of the VNNI kernels (same layouts, see repack.go), for CPUs
// without AVX-512. VPDPBUSD is emulated by VPMADDUBSW (unsigned × signed
// bytes, pairs summed into int16) and VPMADDWD against ones (pairs of
// int16 into int32 lanes): every weight level times 127 fits an int16
// pair sum (Q6_K: 2·63·127 = 16002). Q8_0 uses |w| × sign(w)·x instead,
// since its ±128 weights would saturate. A 64-byte chunk is two 32-byte
// halves; lanes 0..7 of both halves carry the same scale groups for Q4_K
// and Q5_K, while for Q6_K and the 32-block types the upper half holds
// groups (blocks) 8..15.

// DPB adds u8(U)·s8(X) in groups of four to the int32 lanes of ACC.
// Y15 holds int16 ones; T is scratch.
#define DPB(X, U, ACC, T) \
	VPMADDUBSW X, U, T \
	VPMADDWD   Y15, T, T \
	VPADDD     T, ACC, ACC

#define ONES16 \
	MOVL         $0x00010001, AX \
	MOVD         AX, X15 \
	VPBROADCASTD X15, Y15

#define MASK0F(R) \
	MOVL         $0x0f0f0f0f, AX \
	MOVD         AX, X14 \
	VPBROADCASTD X14, R

// HSUMY reduces the 8 float32 lanes of Y0 into X0[0].
#define HSUMY \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0x4e, X0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0xb1, X0, X1 \
	VADDPS       X1, X0, X0

#define G32ARGS \
	MOVQ w_base+0(FP), SI \
	MOVQ sc_base+24(FP), R8 \
	MOVQ qs_base+48(FP), DI \
	MOVQ d_base+72(FP), R9 \
	MOVQ d_len+80(FP), CX \
	MOVQ s_base+96(FP), R10 \
	SHRQ $4, CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1

// G32SCALE2 scales block sums Y4 (blocks 0..7) and Y5 (8..15) by dw·dx
// into Y0, and adds dw·dx·Σx into Y1.
#define G32SCALE2 \
	VCVTDQ2PS   Y4, Y4 \
	VCVTDQ2PS   Y5, Y5 \
	VCVTPH2PS   0(R8), Y2 \
	VCVTPH2PS   16(R8), Y3 \
	VMULPS      0(R9), Y2, Y6 \
	VMULPS      32(R9), Y3, Y7 \
	VFMADD231PS Y6, Y4, Y0 \
	VFMADD231PS Y7, Y5, Y0 \
	VFMADD231PS 0(R10), Y2, Y1 \
	VFMADD231PS 32(R10), Y3, Y1

// Q8HALF: 32 stored bytes (q+128) at WOFF(SI), activations at XOFF(DI).
#define Q8HALF(WOFF, XOFF, ACC) \
	VMOVDQU    WOFF(SI), Y8 \
	VPXOR      Y13, Y8, Y8 \
	VPABSB     Y8, Y9 \
	VMOVDQU    XOFF(DI), Y10 \
	VPSIGNB    Y8, Y10, Y10 \
	DPB(Y10, Y9, ACC, Y11)

// func dotQ8_0AVX2(w, sc []byte, qs []int8, d, s []float32) float32
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-124
	G32ARGS
	ONES16
	MOVL         $0x80808080, AX
	MOVD         AX, X13
	VPBROADCASTD X13, Y13
	TESTQ CX, CX
	JZ    q8done

q8loop:
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	Q8HALF(0, 0, Y4)
	Q8HALF(32, 32, Y5)
	Q8HALF(64, 64, Y4)
	Q8HALF(96, 96, Y5)
	Q8HALF(128, 128, Y4)
	Q8HALF(160, 160, Y5)
	Q8HALF(192, 192, Y4)
	Q8HALF(224, 224, Y5)
	Q8HALF(256, 256, Y4)
	Q8HALF(288, 288, Y5)
	Q8HALF(320, 320, Y4)
	Q8HALF(352, 352, Y5)
	Q8HALF(384, 384, Y4)
	Q8HALF(416, 416, Y5)
	Q8HALF(448, 448, Y4)
	Q8HALF(480, 480, Y5)
	G32SCALE2
	ADDQ $512, SI
	ADDQ $512, DI
	ADDQ $32, R8
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ CX
	JNZ  q8loop

q8done:
	// the products are of the signed weights already: Y1 is not needed
	HSUMY
	MOVSS X0, ret+120(FP)
	VZEROUPPER
	RET

// Q4HALF: 32 nibble bytes at WOFF(SI) hold chunk 2q (low) and 2q+1 (high)
// for one half; activations at XLO(DI) and XHI(DI).
#define Q4HALF(WOFF, XLO, XHI, ACC) \
	VMOVDQU WOFF(SI), Y8 \
	VPSRLW  $4, Y8, Y9 \
	VPAND   Y14, Y8, Y8 \
	VPAND   Y14, Y9, Y9 \
	DPB(XLO(DI), Y8, ACC, Y11) \
	DPB(XHI(DI), Y9, ACC, Y11)

// func dotQ4_0AVX2(w, sc []byte, qs []int8, d, s []float32) float32
TEXT ·dotQ4_0AVX2(SB), NOSPLIT, $0-124
	G32ARGS
	ONES16
	MASK0F(Y14)
	TESTQ CX, CX
	JZ    q4done

q4loop:
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	Q4HALF(0, 0, 64, Y4)
	Q4HALF(32, 32, 96, Y5)
	Q4HALF(64, 128, 192, Y4)
	Q4HALF(96, 160, 224, Y5)
	Q4HALF(128, 256, 320, Y4)
	Q4HALF(160, 288, 352, Y5)
	Q4HALF(192, 384, 448, Y4)
	Q4HALF(224, 416, 480, Y5)
	G32SCALE2
	ADDQ $256, SI
	ADDQ $512, DI
	ADDQ $32, R8
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ CX
	JNZ  q4loop

q4done:
	// Y0 - 8·Y1
	MOVL         $0x41000000, AX
	MOVD         AX, X2
	VBROADCASTSS X2, Y2
	VFNMADD231PS Y2, Y1, Y0
	HSUMY
	MOVSS X0, ret+120(FP)
	VZEROUPPER
	RET

// KHALF45: 32 nibble bytes at WOFF(SI) for chunks c (low) and c+1 (high),
// half h; activations at XLO(BX), XHI(BX). All into Y4.
#define KHALF45(WOFF, XLO, XHI) \
	VMOVDQU WOFF(SI), Y8 \
	VPSRLW  $4, Y8, Y9 \
	VPAND   Y14, Y8, Y8 \
	VPAND   Y14, Y9, Y9 \
	KFIFTH \
	DPB(XLO(BX), Y8, Y4, Y11) \
	DPB(XHI(BX), Y9, Y4, Y11)

// K45FINISH: Y4 (group dots) · scales · d·dx into Y0; mins into Y1.
#define K45FINISH \
	VPMOVZXBD    4(DX), Y12 \
	VPMULLD      Y12, Y4, Y4 \
	VCVTDQ2PS    Y4, Y4 \
	VPBROADCASTW 0(DX), X12 \
	VCVTPH2PS    X12, Y12 \
	VBROADCASTSS 320(BX), Y13 \
	VMULPS       Y13, Y12, Y12 \
	VFMADD231PS  Y12, Y4, Y0 \
	VPMOVZXBD    12(DX), Y12 \
	VPMULLD      256(BX), Y12, Y12 \
	VCVTDQ2PS    Y12, Y12 \
	VPBROADCASTW 2(DX), X10 \
	VCVTPH2PS    X10, Y10 \
	VMULPS       Y13, Y10, Y10 \
	VFMADD231PS  Y10, Y12, Y1

#define KFIFTH

// func dotQ4KAVX2(w, x []byte, nsb int) float32
TEXT ·dotQ4KAVX2(SB), NOSPLIT, $0-60
	MOVQ w_base+0(FP), SI
	MOVQ x_base+24(FP), BX
	MOVQ nsb+48(FP), CX
	MOVQ CX, DX
	SHLQ $7, DX
	ADDQ SI, DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	ONES16
	MASK0F(Y14)
	TESTQ CX, CX
	JZ    q4kdone

q4kloop:
	VPXOR Y4, Y4, Y4
	KHALF45(0, 0, 64)
	KHALF45(32, 32, 96)
	KHALF45(64, 128, 192)
	KHALF45(96, 160, 224)
	K45FINISH
	ADDQ $128, SI
	ADDQ $20, DX
	ADDQ $384, BX
	DECQ CX
	JNZ  q4kloop

q4kdone:
	VSUBPS Y1, Y0, Y0
	HSUMY
	MOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// For Q5_K, KFIFTH adds 16 to the levels whose fifth bit is set: the 32
// mask bits of each half (at MLO(DI) and MHI(DI), set per use) are spread
// to bytes with VPSHUFB and compared against single-bit patterns.
#undef KFIFTH
#define KFIFTH \
	VPBROADCASTD MLO(DI), Y10 \
	VPSHUFB      Y6, Y10, Y10 \
	VPAND        Y7, Y10, Y10 \
	VPCMPEQB     Y7, Y10, Y10 \
	VPAND        Y5, Y10, Y10 \
	VPADDB       Y10, Y8, Y8 \
	VPBROADCASTD MHI(DI), Y10 \
	VPSHUFB      Y6, Y10, Y10 \
	VPAND        Y7, Y10, Y10 \
	VPCMPEQB     Y7, Y10, Y10 \
	VPAND        Y5, Y10, Y10 \
	VPADDB       Y10, Y9, Y9

// func dotQ5KAVX2(w, x []byte, nsb int) float32
TEXT ·dotQ5KAVX2(SB), NOSPLIT, $0-60
	MOVQ w_base+0(FP), SI
	MOVQ x_base+24(FP), BX
	MOVQ nsb+48(FP), CX
	MOVQ CX, DI
	SHLQ $7, DI
	ADDQ SI, DI
	MOVQ CX, DX
	SHLQ $5, DX
	ADDQ DI, DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	ONES16
	MASK0F(Y14)
	MOVL         $0x10101010, AX
	MOVD         AX, X5
	VPBROADCASTD X5, Y5
	VMOVDQU      bytespread<>(SB), Y6
	VMOVDQU      bitsel<>(SB), Y7
	TESTQ CX, CX
	JZ    q5kdone

q5kloop:
	VPXOR Y4, Y4, Y4
#define MLO 0
#define MHI 8
	KHALF45(0, 0, 64)
#undef MLO
#undef MHI
#define MLO 4
#define MHI 12
	KHALF45(32, 32, 96)
#undef MLO
#undef MHI
#define MLO 16
#define MHI 24
	KHALF45(64, 128, 192)
#undef MLO
#undef MHI
#define MLO 20
#define MHI 28
	KHALF45(96, 160, 224)
#undef MLO
#undef MHI
	K45FINISH
	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $20, DX
	ADDQ $384, BX
	DECQ CX
	JNZ  q5kloop

q5kdone:
	VSUBPS Y1, Y0, Y0
	HSUMY
	MOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// Q6HALF: nibbles at WOFF(SI) (chunks c, c+1 of half h), high pairs at
// HOFF(DI); SHL/SHR bring chunk c's and c+1's pairs to bits 4-5.
#define Q6PAIR(WOFF, HOFF, XLO, XHI, ACC) \
	VMOVDQU WOFF(SI), Y8 \
	VPSRLW  $4, Y8, Y9 \
	VPAND   Y14, Y8, Y8 \
	VPAND   Y14, Y9, Y9 \
	VMOVDQU HOFF(DI), Y10 \
	Q6HI \
	DPB(XLO(BX), Y8, ACC, Y11) \
	DPB(XHI(BX), Y9, ACC, Y11)

// func dotQ6KAVX2(w, x []byte, nsb int) float32
TEXT ·dotQ6KAVX2(SB), NOSPLIT, $0-60
	MOVQ w_base+0(FP), SI
	MOVQ x_base+24(FP), BX
	MOVQ nsb+48(FP), CX
	MOVQ CX, DI
	SHLQ $7, DI
	ADDQ SI, DI
	MOVQ CX, DX
	SHLQ $6, DX
	ADDQ DI, DX
	VXORPS Y0, Y0, Y0
	ONES16
	MASK0F(Y14)
	MOVL         $0x30303030, AX
	MOVD         AX, X13
	VPBROADCASTD X13, Y13
	TESTQ CX, CX
	JZ    q6kdone

q6kloop:
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	// chunks 0 and 1: pairs at bits 0-1 and 2-3
#define Q6HI \
	VPSLLW $4, Y10, Y12 \
	VPAND  Y13, Y12, Y12 \
	VPOR   Y12, Y8, Y8 \
	VPSLLW $2, Y10, Y12 \
	VPAND  Y13, Y12, Y12 \
	VPOR   Y12, Y9, Y9
	Q6PAIR(0, 0, 0, 64, Y4)
	Q6PAIR(32, 32, 32, 96, Y5)
#undef Q6HI
	// chunks 2 and 3: pairs at bits 4-5 and 6-7
#define Q6HI \
	VPAND  Y13, Y10, Y12 \
	VPOR   Y12, Y8, Y8 \
	VPSRLW $2, Y10, Y12 \
	VPAND  Y13, Y12, Y12 \
	VPOR   Y12, Y9, Y9
	Q6PAIR(64, 0, 128, 192, Y4)
	Q6PAIR(96, 32, 160, 224, Y5)
#undef Q6HI
	VPSUBD       256(BX), Y4, Y4
	VPSUBD       288(BX), Y5, Y5
	VPMOVSXBD    0(DX), Y12
	VPMULLD      Y12, Y4, Y4
	VPMOVSXBD    8(DX), Y12
	VPMULLD      Y12, Y5, Y5
	VPADDD       Y5, Y4, Y4
	VCVTDQ2PS    Y4, Y4
	VPBROADCASTW 16(DX), X12
	VCVTPH2PS    X12, Y12
	VBROADCASTSS 320(BX), Y10
	VMULPS       Y10, Y12, Y12
	VFMADD231PS  Y12, Y4, Y0
	ADDQ $128, SI
	ADDQ $64, DI
	ADDQ $18, DX
	ADDQ $384, BX
	DECQ CX
	JNZ  q6kloop

q6kdone:
	HSUMY
	MOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// bytespread copies byte k of a dword to bytes 8k..8k+7 (VPSHUFB per
// 128-bit lane: the dword is broadcast, so each lane sees all four bytes).
DATA bytespread<>+0(SB)/8, $0x0000000000000000
DATA bytespread<>+8(SB)/8, $0x0101010101010101
DATA bytespread<>+16(SB)/8, $0x0202020202020202
DATA bytespread<>+24(SB)/8, $0x0303030303030303
GLOBL bytespread<>(SB), RODATA|NOPTR, $32

// bitsel selects bit k%8 in byte k.
DATA bitsel<>+0(SB)/8, $0x8040201008040201
DATA bitsel<>+8(SB)/8, $0x8040201008040201
DATA bitsel<>+16(SB)/8, $0x8040201008040201
DATA bitsel<>+24(SB)/8, $0x8040201008040201
GLOBL bitsel<>(SB), RODATA|NOPTR, $32
