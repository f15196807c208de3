//go:build amd64

#include "textflag.h"

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

// One pair of 32-blocks: unsigned weights in WREG, signed activations at
// MEM, pair index P selects the lanes' scales from Z3 (dw·dx of 16 blocks).
#define PAIR32(WREG, MEM, IDX) \
	VPXORD      Z5, Z5, Z5 \
	VPDPBUSD    MEM, WREG, Z5 \
	VCVTDQ2PS   Z5, Z5 \
	VPERMPS     Z3, IDX, Z6 \
	VFMADD231PS Z6, Z5, Z0

// func dotQ8_0VNNI(w, sc []byte, qs []int8, d, s []float32) float32
TEXT ·dotQ8_0VNNI(SB), NOSPLIT, $0-124
	MOVQ w_base+0(FP), SI
	MOVQ sc_base+24(FP), R8
	MOVQ qs_base+48(FP), DI
	MOVQ d_base+72(FP), R9
	MOVQ d_len+80(FP), CX
	MOVQ s_base+96(FP), R10
	SHRQ $4, CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VMOVDQU64 pairidx<>+0(SB), Z24
	VMOVDQU64 pairidx<>+64(SB), Z25
	VMOVDQU64 pairidx<>+128(SB), Z26
	VMOVDQU64 pairidx<>+192(SB), Z27
	VMOVDQU64 pairidx<>+256(SB), Z28
	VMOVDQU64 pairidx<>+320(SB), Z29
	VMOVDQU64 pairidx<>+384(SB), Z30
	VMOVDQU64 pairidx<>+448(SB), Z31
	TESTQ CX, CX
	JZ    q8done

q8loop:
	VCVTPH2PS   (R8), Z2
	VMULPS      (R9), Z2, Z3
	VFMADD231PS (R10), Z2, Z1
	VMOVDQU64   0(SI), Z4
	PAIR32(Z4, 0(DI), Z24)
	VMOVDQU64   64(SI), Z4
	PAIR32(Z4, 64(DI), Z25)
	VMOVDQU64   128(SI), Z4
	PAIR32(Z4, 128(DI), Z26)
	VMOVDQU64   192(SI), Z4
	PAIR32(Z4, 192(DI), Z27)
	VMOVDQU64   256(SI), Z4
	PAIR32(Z4, 256(DI), Z28)
	VMOVDQU64   320(SI), Z4
	PAIR32(Z4, 320(DI), Z29)
	VMOVDQU64   384(SI), Z4
	PAIR32(Z4, 384(DI), Z30)
	VMOVDQU64   448(SI), Z4
	PAIR32(Z4, 448(DI), Z31)
	ADDQ $512, SI
	ADDQ $512, DI
	ADDQ $32, R8
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ CX
	JNZ  q8loop

q8done:
	// Z0 - 128·Z1
	MOVL         $0x43000000, AX
	VPBROADCASTD AX, Z2
	VFNMADD231PS Z2, Z1, Z0
	HSUM_Z0
	MOVSS X0, ret+120(FP)
	VZEROUPPER
	RET

// func dotQ4_0VNNI(w, sc []byte, qs []int8, d, s []float32) float32
TEXT ·dotQ4_0VNNI(SB), NOSPLIT, $0-124
	MOVQ w_base+0(FP), SI
	MOVQ sc_base+24(FP), R8
	MOVQ qs_base+48(FP), DI
	MOVQ d_base+72(FP), R9
	MOVQ d_len+80(FP), CX
	MOVQ s_base+96(FP), R10
	SHRQ $4, CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	VMOVDQU64 pairidx<>+0(SB), Z24
	VMOVDQU64 pairidx<>+64(SB), Z25
	VMOVDQU64 pairidx<>+128(SB), Z26
	VMOVDQU64 pairidx<>+192(SB), Z27
	VMOVDQU64 pairidx<>+256(SB), Z28
	VMOVDQU64 pairidx<>+320(SB), Z29
	VMOVDQU64 pairidx<>+384(SB), Z30
	VMOVDQU64 pairidx<>+448(SB), Z31
	TESTQ CX, CX
	JZ    q4done

q4loop:
	VCVTPH2PS   (R8), Z2
	VMULPS      (R9), Z2, Z3
	VFMADD231PS (R10), Z2, Z1
	VMOVDQU64   0(SI), Z8
	VPSRLW      $4, Z8, Z9
	VPANDD      Z7, Z8, Z8
	VPANDD      Z7, Z9, Z9
	PAIR32(Z8, 0(DI), Z24)
	PAIR32(Z9, 64(DI), Z25)
	VMOVDQU64   64(SI), Z8
	VPSRLW      $4, Z8, Z9
	VPANDD      Z7, Z8, Z8
	VPANDD      Z7, Z9, Z9
	PAIR32(Z8, 128(DI), Z26)
	PAIR32(Z9, 192(DI), Z27)
	VMOVDQU64   128(SI), Z8
	VPSRLW      $4, Z8, Z9
	VPANDD      Z7, Z8, Z8
	VPANDD      Z7, Z9, Z9
	PAIR32(Z8, 256(DI), Z28)
	PAIR32(Z9, 320(DI), Z29)
	VMOVDQU64   192(SI), Z8
	VPSRLW      $4, Z8, Z9
	VPANDD      Z7, Z8, Z8
	VPANDD      Z7, Z9, Z9
	PAIR32(Z8, 384(DI), Z30)
	PAIR32(Z9, 448(DI), Z31)
	ADDQ $256, SI
	ADDQ $512, DI
	ADDQ $32, R8
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ CX
	JNZ  q4loop

q4done:
	// Z0 - 8·Z1
	MOVL         $0x41000000, AX
	VPBROADCASTD AX, Z2
	VFNMADD231PS Z2, Z1, Z0
	HSUM_Z0
	MOVSS X0, ret+120(FP)
	VZEROUPPER
	RET

// K-quant super-block helpers. BX points at the activation block (ggml's
// block_q8_K: float32 d, 256 int8, 16 int16 sums), DX at the weight
// header (fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins).

// KSCALES decodes the eight 6-bit scales into Z10 (dwords, lanes 0..7)
// and the eight mins into Y12 as dwords holding the min in both words.
#define KSCALES \
	MOVQ         4(DX), R11 \
	MOVL         12(DX), R12 \
	MOVQ         R11, R13 \
	SHRQ         $32, R13 \
	MOVL         R11, AX \
	SHRL         $6, AX \
	ANDL         $0x03030303, AX \
	SHLL         $4, AX \
	MOVL         R12, R14 \
	ANDL         $0x0f0f0f0f, R14 \
	ORL          R14, AX \
	SHLQ         $32, AX \
	MOVL         R11, R14 \
	ANDL         $0x3f3f3f3f, R14 \
	ORQ          R14, AX \
	VMOVQ        AX, X10 \
	VPMOVZXBD    X10, Y10 \
	MOVL         R13, AX \
	SHRL         $6, AX \
	ANDL         $0x03030303, AX \
	SHLL         $4, AX \
	MOVL         R12, R14 \
	SHRL         $4, R14 \
	ANDL         $0x0f0f0f0f, R14 \
	ORL          R14, AX \
	SHLQ         $32, AX \
	ANDL         $0x3f3f3f3f, R13 \
	ORQ          R13, AX \
	VMOVQ        AX, X12 \
	VPMOVZXBD    X12, Y12 \
	VPSLLD       $16, Y12, Y13 \
	VPOR         Y13, Y12, Y12

// KFACTORS puts d·dx in all lanes of Z15 and dmin·dx in all lanes of Y14.
#define KFACTORS \
	VMOVD        0(DX), X14 \
	VCVTPH2PS    X14, X14 \
	VBROADCASTSS 0(BX), X13 \
	VMULPS       X13, X14, X14 \
	VBROADCASTSS X14, Z15 \
	VMOVSHDUP    X14, X14 \
	VBROADCASTSS X14, Y14

// KCHUNK multiplies 64 weights in WREG by activations at MEM, scales the
// lanes by the sub-block scales selected by IDX from Z10 and adds to Z11.
#define KCHUNK(WREG, MEM, IDX) \
	VPXORD   Z5, Z5, Z5 \
	VPDPBUSD MEM, WREG, Z5 \
	VPERMD   Z10, IDX, Z6 \
	VPMULLD  Z6, Z5, Z5 \
	VPADDD   Z5, Z11, Z11

// KMINS subtracts dmin·dx·Σ m_j·bsum_j: Y1 accumulates it, lane-wise.
#define KMINS \
	VPMADDWD    260(BX), Y12, Y13 \
	VCVTDQ2PS   Y13, Y13 \
	VFMADD231PS Y14, Y13, Y1

// func dotQ4KVNNI(w, x []byte, nsb int) float32
TEXT ·dotQ4KVNNI(SB), NOSPLIT, $0-60
	MOVQ w_base+0(FP), SI
	MOVQ x_base+24(FP), BX
	MOVQ nsb+48(FP), CX
	MOVQ CX, DX
	SHLQ $7, DX
	ADDQ SI, DX              // headers follow the nibbles
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	VMOVDQU64 pairidx<>+0(SB), Z24
	VMOVDQU64 pairidx<>+64(SB), Z25
	VMOVDQU64 pairidx<>+128(SB), Z26
	VMOVDQU64 pairidx<>+192(SB), Z27
	TESTQ CX, CX
	JZ    q4kdone

q4kloop:
	KSCALES
	KFACTORS
	VPXORD    Z11, Z11, Z11
	VMOVDQU64 0(SI), Z8
	VPSRLW    $4, Z8, Z9
	VPANDD    Z7, Z8, Z8
	VPANDD    Z7, Z9, Z9
	KCHUNK(Z8, 4(BX), Z24)
	KCHUNK(Z9, 68(BX), Z25)
	VMOVDQU64 64(SI), Z8
	VPSRLW    $4, Z8, Z9
	VPANDD    Z7, Z8, Z8
	VPANDD    Z7, Z9, Z9
	KCHUNK(Z8, 132(BX), Z26)
	KCHUNK(Z9, 196(BX), Z27)
	VCVTDQ2PS   Z11, Z11
	VFMADD231PS Z15, Z11, Z0
	KMINS
	ADDQ $128, SI
	ADDQ $16, DX
	ADDQ $292, BX
	DECQ CX
	JNZ  q4kloop

q4kdone:
	VSUBPS Z1, Z0, Z0
	HSUM_Z0
	MOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func dotQ5KVNNI(w, x []byte, nsb int) float32
TEXT ·dotQ5KVNNI(SB), NOSPLIT, $0-60
	MOVQ w_base+0(FP), SI
	MOVQ x_base+24(FP), BX
	MOVQ nsb+48(FP), CX
	MOVQ CX, DI
	SHLQ $7, DI
	ADDQ SI, DI              // fifth-bit masks follow the nibbles
	MOVQ CX, DX
	SHLQ $5, DX
	ADDQ DI, DX              // then the headers
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	MOVL         $0x10101010, AX
	VPBROADCASTD AX, Z16
	VMOVDQU64 pairidx<>+0(SB), Z24
	VMOVDQU64 pairidx<>+64(SB), Z25
	VMOVDQU64 pairidx<>+128(SB), Z26
	VMOVDQU64 pairidx<>+192(SB), Z27
	TESTQ CX, CX
	JZ    q5kdone

q5kloop:
	KSCALES
	KFACTORS
	VPXORD    Z11, Z11, Z11
	KMOVQ     0(DI), K1
	KMOVQ     8(DI), K2
	VMOVDQU64 0(SI), Z8
	VPSRLW    $4, Z8, Z9
	VPANDD    Z7, Z8, Z8
	VPANDD    Z7, Z9, Z9
	VPADDB    Z16, Z8, K1, Z8
	VPADDB    Z16, Z9, K2, Z9
	KCHUNK(Z8, 4(BX), Z24)
	KCHUNK(Z9, 68(BX), Z25)
	KMOVQ     16(DI), K1
	KMOVQ     24(DI), K2
	VMOVDQU64 64(SI), Z8
	VPSRLW    $4, Z8, Z9
	VPANDD    Z7, Z8, Z8
	VPANDD    Z7, Z9, Z9
	VPADDB    Z16, Z8, K1, Z8
	VPADDB    Z16, Z9, K2, Z9
	KCHUNK(Z8, 132(BX), Z26)
	KCHUNK(Z9, 196(BX), Z27)
	VCVTDQ2PS   Z11, Z11
	VFMADD231PS Z15, Z11, Z0
	KMINS
	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $16, DX
	ADDQ $292, BX
	DECQ CX
	JNZ  q5kloop

q5kdone:
	VSUBPS Z1, Z0, Z0
	HSUM_Z0
	MOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// Q6_K half: 128 elements from ql at QL (64 bytes) and qh at QH (32
// bytes); activations at MEM0 (elements 0..63) and MEM1 (64..127).
#define Q6HALF(QL, QH, MEM0, MEM1, IDX0, IDX1) \
	VMOVDQU64      QL, Z8 \
	VPSRLW         $4, Z8, Z9 \
	VPANDD         Z7, Z8, Z8 \
	VPANDD         Z7, Z9, Z9 \
	VBROADCASTI64X4 QH, Z17 \
	VPSLLVW        Z18, Z17, Z20 \
	VPSRLVW        Z19, Z17, Z21 \
	VPTERNLOGD     $0xf8, Z22, Z20, Z8 \
	VPTERNLOGD     $0xf8, Z22, Z21, Z9 \
	KCHUNK(Z8, MEM0, IDX0) \
	KCHUNK(Z9, MEM1, IDX1)

// func dotQ6KVNNI(w, x []byte, nsb int) float32
TEXT ·dotQ6KVNNI(SB), NOSPLIT, $0-60
	MOVQ w_base+0(FP), SI
	MOVQ x_base+24(FP), BX
	MOVQ nsb+48(FP), CX
	VPXORD Z0, Z0, Z0
	MOVL         $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z7
	MOVL         $0x30303030, AX
	VPBROADCASTD AX, Z22
	VMOVDQU64 q6shl<>+0(SB), Z18
	VMOVDQU64 q6shr<>+0(SB), Z19
	VMOVDQU64 quadidx<>+0(SB), Z24
	VMOVDQU64 quadidx<>+64(SB), Z25
	VMOVDQU64 quadidx<>+128(SB), Z26
	VMOVDQU64 quadidx<>+192(SB), Z27
	TESTQ CX, CX
	JZ    q6kdone

q6kloop:
	VPMOVSXBD 192(SI), Z10
	VPXORD    Z11, Z11, Z11
	Q6HALF(0(SI), 128(SI), 4(BX), 68(BX), Z24, Z25)
	Q6HALF(64(SI), 160(SI), 132(BX), 196(BX), Z26, Z27)
	// bias: Σ_g sc_g·32·bsum_g, subtracted from the integer sum
	VPMOVSXBW 192(SI), Y12
	VPMADDWD  260(BX), Y12, Y13
	VPSLLD    $5, Y13, Y13
	VPSUBD    Z13, Z11, Z11
	MOVWLZX      208(SI), AX
	VMOVD        AX, X14
	VCVTPH2PS    X14, X14
	VMULSS       0(BX), X14, X14
	VBROADCASTSS X14, Z15
	VCVTDQ2PS    Z11, Z11
	VFMADD231PS  Z15, Z11, Z0
	ADDQ $210, SI
	ADDQ $292, BX
	DECQ CX
	JNZ  q6kloop

q6kdone:
	HSUM_Z0
	MOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

DATA pairidx<>+0(SB)/4, $0
DATA pairidx<>+4(SB)/4, $0
DATA pairidx<>+8(SB)/4, $0
DATA pairidx<>+12(SB)/4, $0
DATA pairidx<>+16(SB)/4, $0
DATA pairidx<>+20(SB)/4, $0
DATA pairidx<>+24(SB)/4, $0
DATA pairidx<>+28(SB)/4, $0
DATA pairidx<>+32(SB)/4, $1
DATA pairidx<>+36(SB)/4, $1
DATA pairidx<>+40(SB)/4, $1
DATA pairidx<>+44(SB)/4, $1
DATA pairidx<>+48(SB)/4, $1
DATA pairidx<>+52(SB)/4, $1
DATA pairidx<>+56(SB)/4, $1
DATA pairidx<>+60(SB)/4, $1
DATA pairidx<>+64(SB)/4, $2
DATA pairidx<>+68(SB)/4, $2
DATA pairidx<>+72(SB)/4, $2
DATA pairidx<>+76(SB)/4, $2
DATA pairidx<>+80(SB)/4, $2
DATA pairidx<>+84(SB)/4, $2
DATA pairidx<>+88(SB)/4, $2
DATA pairidx<>+92(SB)/4, $2
DATA pairidx<>+96(SB)/4, $3
DATA pairidx<>+100(SB)/4, $3
DATA pairidx<>+104(SB)/4, $3
DATA pairidx<>+108(SB)/4, $3
DATA pairidx<>+112(SB)/4, $3
DATA pairidx<>+116(SB)/4, $3
DATA pairidx<>+120(SB)/4, $3
DATA pairidx<>+124(SB)/4, $3
DATA pairidx<>+128(SB)/4, $4
DATA pairidx<>+132(SB)/4, $4
DATA pairidx<>+136(SB)/4, $4
DATA pairidx<>+140(SB)/4, $4
DATA pairidx<>+144(SB)/4, $4
DATA pairidx<>+148(SB)/4, $4
DATA pairidx<>+152(SB)/4, $4
DATA pairidx<>+156(SB)/4, $4
DATA pairidx<>+160(SB)/4, $5
DATA pairidx<>+164(SB)/4, $5
DATA pairidx<>+168(SB)/4, $5
DATA pairidx<>+172(SB)/4, $5
DATA pairidx<>+176(SB)/4, $5
DATA pairidx<>+180(SB)/4, $5
DATA pairidx<>+184(SB)/4, $5
DATA pairidx<>+188(SB)/4, $5
DATA pairidx<>+192(SB)/4, $6
DATA pairidx<>+196(SB)/4, $6
DATA pairidx<>+200(SB)/4, $6
DATA pairidx<>+204(SB)/4, $6
DATA pairidx<>+208(SB)/4, $6
DATA pairidx<>+212(SB)/4, $6
DATA pairidx<>+216(SB)/4, $6
DATA pairidx<>+220(SB)/4, $6
DATA pairidx<>+224(SB)/4, $7
DATA pairidx<>+228(SB)/4, $7
DATA pairidx<>+232(SB)/4, $7
DATA pairidx<>+236(SB)/4, $7
DATA pairidx<>+240(SB)/4, $7
DATA pairidx<>+244(SB)/4, $7
DATA pairidx<>+248(SB)/4, $7
DATA pairidx<>+252(SB)/4, $7
DATA pairidx<>+256(SB)/4, $8
DATA pairidx<>+260(SB)/4, $8
DATA pairidx<>+264(SB)/4, $8
DATA pairidx<>+268(SB)/4, $8
DATA pairidx<>+272(SB)/4, $8
DATA pairidx<>+276(SB)/4, $8
DATA pairidx<>+280(SB)/4, $8
DATA pairidx<>+284(SB)/4, $8
DATA pairidx<>+288(SB)/4, $9
DATA pairidx<>+292(SB)/4, $9
DATA pairidx<>+296(SB)/4, $9
DATA pairidx<>+300(SB)/4, $9
DATA pairidx<>+304(SB)/4, $9
DATA pairidx<>+308(SB)/4, $9
DATA pairidx<>+312(SB)/4, $9
DATA pairidx<>+316(SB)/4, $9
DATA pairidx<>+320(SB)/4, $10
DATA pairidx<>+324(SB)/4, $10
DATA pairidx<>+328(SB)/4, $10
DATA pairidx<>+332(SB)/4, $10
DATA pairidx<>+336(SB)/4, $10
DATA pairidx<>+340(SB)/4, $10
DATA pairidx<>+344(SB)/4, $10
DATA pairidx<>+348(SB)/4, $10
DATA pairidx<>+352(SB)/4, $11
DATA pairidx<>+356(SB)/4, $11
DATA pairidx<>+360(SB)/4, $11
DATA pairidx<>+364(SB)/4, $11
DATA pairidx<>+368(SB)/4, $11
DATA pairidx<>+372(SB)/4, $11
DATA pairidx<>+376(SB)/4, $11
DATA pairidx<>+380(SB)/4, $11
DATA pairidx<>+384(SB)/4, $12
DATA pairidx<>+388(SB)/4, $12
DATA pairidx<>+392(SB)/4, $12
DATA pairidx<>+396(SB)/4, $12
DATA pairidx<>+400(SB)/4, $12
DATA pairidx<>+404(SB)/4, $12
DATA pairidx<>+408(SB)/4, $12
DATA pairidx<>+412(SB)/4, $12
DATA pairidx<>+416(SB)/4, $13
DATA pairidx<>+420(SB)/4, $13
DATA pairidx<>+424(SB)/4, $13
DATA pairidx<>+428(SB)/4, $13
DATA pairidx<>+432(SB)/4, $13
DATA pairidx<>+436(SB)/4, $13
DATA pairidx<>+440(SB)/4, $13
DATA pairidx<>+444(SB)/4, $13
DATA pairidx<>+448(SB)/4, $14
DATA pairidx<>+452(SB)/4, $14
DATA pairidx<>+456(SB)/4, $14
DATA pairidx<>+460(SB)/4, $14
DATA pairidx<>+464(SB)/4, $14
DATA pairidx<>+468(SB)/4, $14
DATA pairidx<>+472(SB)/4, $14
DATA pairidx<>+476(SB)/4, $14
DATA pairidx<>+480(SB)/4, $15
DATA pairidx<>+484(SB)/4, $15
DATA pairidx<>+488(SB)/4, $15
DATA pairidx<>+492(SB)/4, $15
DATA pairidx<>+496(SB)/4, $15
DATA pairidx<>+500(SB)/4, $15
DATA pairidx<>+504(SB)/4, $15
DATA pairidx<>+508(SB)/4, $15
GLOBL pairidx<>(SB), RODATA|NOPTR, $512

DATA quadidx<>+0(SB)/4, $0
DATA quadidx<>+4(SB)/4, $0
DATA quadidx<>+8(SB)/4, $0
DATA quadidx<>+12(SB)/4, $0
DATA quadidx<>+16(SB)/4, $1
DATA quadidx<>+20(SB)/4, $1
DATA quadidx<>+24(SB)/4, $1
DATA quadidx<>+28(SB)/4, $1
DATA quadidx<>+32(SB)/4, $2
DATA quadidx<>+36(SB)/4, $2
DATA quadidx<>+40(SB)/4, $2
DATA quadidx<>+44(SB)/4, $2
DATA quadidx<>+48(SB)/4, $3
DATA quadidx<>+52(SB)/4, $3
DATA quadidx<>+56(SB)/4, $3
DATA quadidx<>+60(SB)/4, $3
DATA quadidx<>+64(SB)/4, $4
DATA quadidx<>+68(SB)/4, $4
DATA quadidx<>+72(SB)/4, $4
DATA quadidx<>+76(SB)/4, $4
DATA quadidx<>+80(SB)/4, $5
DATA quadidx<>+84(SB)/4, $5
DATA quadidx<>+88(SB)/4, $5
DATA quadidx<>+92(SB)/4, $5
DATA quadidx<>+96(SB)/4, $6
DATA quadidx<>+100(SB)/4, $6
DATA quadidx<>+104(SB)/4, $6
DATA quadidx<>+108(SB)/4, $6
DATA quadidx<>+112(SB)/4, $7
DATA quadidx<>+116(SB)/4, $7
DATA quadidx<>+120(SB)/4, $7
DATA quadidx<>+124(SB)/4, $7
DATA quadidx<>+128(SB)/4, $8
DATA quadidx<>+132(SB)/4, $8
DATA quadidx<>+136(SB)/4, $8
DATA quadidx<>+140(SB)/4, $8
DATA quadidx<>+144(SB)/4, $9
DATA quadidx<>+148(SB)/4, $9
DATA quadidx<>+152(SB)/4, $9
DATA quadidx<>+156(SB)/4, $9
DATA quadidx<>+160(SB)/4, $10
DATA quadidx<>+164(SB)/4, $10
DATA quadidx<>+168(SB)/4, $10
DATA quadidx<>+172(SB)/4, $10
DATA quadidx<>+176(SB)/4, $11
DATA quadidx<>+180(SB)/4, $11
DATA quadidx<>+184(SB)/4, $11
DATA quadidx<>+188(SB)/4, $11
DATA quadidx<>+192(SB)/4, $12
DATA quadidx<>+196(SB)/4, $12
DATA quadidx<>+200(SB)/4, $12
DATA quadidx<>+204(SB)/4, $12
DATA quadidx<>+208(SB)/4, $13
DATA quadidx<>+212(SB)/4, $13
DATA quadidx<>+216(SB)/4, $13
DATA quadidx<>+220(SB)/4, $13
DATA quadidx<>+224(SB)/4, $14
DATA quadidx<>+228(SB)/4, $14
DATA quadidx<>+232(SB)/4, $14
DATA quadidx<>+236(SB)/4, $14
DATA quadidx<>+240(SB)/4, $15
DATA quadidx<>+244(SB)/4, $15
DATA quadidx<>+248(SB)/4, $15
DATA quadidx<>+252(SB)/4, $15
GLOBL quadidx<>(SB), RODATA|NOPTR, $256

DATA q6shl<>+0(SB)/2, $4
DATA q6shl<>+2(SB)/2, $4
DATA q6shl<>+4(SB)/2, $4
DATA q6shl<>+6(SB)/2, $4
DATA q6shl<>+8(SB)/2, $4
DATA q6shl<>+10(SB)/2, $4
DATA q6shl<>+12(SB)/2, $4
DATA q6shl<>+14(SB)/2, $4
DATA q6shl<>+16(SB)/2, $4
DATA q6shl<>+18(SB)/2, $4
DATA q6shl<>+20(SB)/2, $4
DATA q6shl<>+22(SB)/2, $4
DATA q6shl<>+24(SB)/2, $4
DATA q6shl<>+26(SB)/2, $4
DATA q6shl<>+28(SB)/2, $4
DATA q6shl<>+30(SB)/2, $4
DATA q6shl<>+32(SB)/2, $2
DATA q6shl<>+34(SB)/2, $2
DATA q6shl<>+36(SB)/2, $2
DATA q6shl<>+38(SB)/2, $2
DATA q6shl<>+40(SB)/2, $2
DATA q6shl<>+42(SB)/2, $2
DATA q6shl<>+44(SB)/2, $2
DATA q6shl<>+46(SB)/2, $2
DATA q6shl<>+48(SB)/2, $2
DATA q6shl<>+50(SB)/2, $2
DATA q6shl<>+52(SB)/2, $2
DATA q6shl<>+54(SB)/2, $2
DATA q6shl<>+56(SB)/2, $2
DATA q6shl<>+58(SB)/2, $2
DATA q6shl<>+60(SB)/2, $2
DATA q6shl<>+62(SB)/2, $2
GLOBL q6shl<>(SB), RODATA|NOPTR, $64

DATA q6shr<>+0(SB)/2, $0
DATA q6shr<>+2(SB)/2, $0
DATA q6shr<>+4(SB)/2, $0
DATA q6shr<>+6(SB)/2, $0
DATA q6shr<>+8(SB)/2, $0
DATA q6shr<>+10(SB)/2, $0
DATA q6shr<>+12(SB)/2, $0
DATA q6shr<>+14(SB)/2, $0
DATA q6shr<>+16(SB)/2, $0
DATA q6shr<>+18(SB)/2, $0
DATA q6shr<>+20(SB)/2, $0
DATA q6shr<>+22(SB)/2, $0
DATA q6shr<>+24(SB)/2, $0
DATA q6shr<>+26(SB)/2, $0
DATA q6shr<>+28(SB)/2, $0
DATA q6shr<>+30(SB)/2, $0
DATA q6shr<>+32(SB)/2, $2
DATA q6shr<>+34(SB)/2, $2
DATA q6shr<>+36(SB)/2, $2
DATA q6shr<>+38(SB)/2, $2
DATA q6shr<>+40(SB)/2, $2
DATA q6shr<>+42(SB)/2, $2
DATA q6shr<>+44(SB)/2, $2
DATA q6shr<>+46(SB)/2, $2
DATA q6shr<>+48(SB)/2, $2
DATA q6shr<>+50(SB)/2, $2
DATA q6shr<>+52(SB)/2, $2
DATA q6shr<>+54(SB)/2, $2
DATA q6shr<>+56(SB)/2, $2
DATA q6shr<>+58(SB)/2, $2
DATA q6shr<>+60(SB)/2, $2
DATA q6shr<>+62(SB)/2, $2
GLOBL q6shr<>(SB), RODATA|NOPTR, $64
