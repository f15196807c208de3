//go:build linux && amd64

#include "textflag.h"

// rlx_cuda_call16 calls a C function with 16 integer arguments (one more
// than purego.SyscallN takes; cublasLtMatmul needs 16). It runs on the g0
// stack through runtime.cgocall, entered with DI pointing at
//	struct { fn uintptr; a [16]uintptr; r1 uintptr }
// System V: a1..a6 in DI SI DX CX R8 R9, a7..a16 on the stack, AL = 0
// (no vector registers used by a variadic callee), result in AX.
GLOBL ·call16ABI0(SB), NOPTR|RODATA, $8
DATA ·call16ABI0(SB)/8, $rlx_cuda_call16(SB)
TEXT rlx_cuda_call16(SB), NOSPLIT|NOFRAME, $0
	PUSHQ BP
	MOVQ  SP, BP
	SUBQ  $96, SP // 10 stack arguments + the saved pointer, 16-byte aligned
	MOVQ  DI, 80(SP)
	MOVQ  DI, R11

	MOVQ 56(R11), R10
	MOVQ R10, 0(SP)
	MOVQ 64(R11), R10
	MOVQ R10, 8(SP)
	MOVQ 72(R11), R10
	MOVQ R10, 16(SP)
	MOVQ 80(R11), R10
	MOVQ R10, 24(SP)
	MOVQ 88(R11), R10
	MOVQ R10, 32(SP)
	MOVQ 96(R11), R10
	MOVQ R10, 40(SP)
	MOVQ 104(R11), R10
	MOVQ R10, 48(SP)
	MOVQ 112(R11), R10
	MOVQ R10, 56(SP)
	MOVQ 120(R11), R10
	MOVQ R10, 64(SP)
	MOVQ 128(R11), R10
	MOVQ R10, 72(SP)

	MOVQ 8(R11), DI
	MOVQ 16(R11), SI
	MOVQ 24(R11), DX
	MOVQ 32(R11), CX
	MOVQ 40(R11), R8
	MOVQ 48(R11), R9
	MOVQ 0(R11), R10
	XORL AX, AX
	CALL R10

	MOVQ 80(SP), DI
	MOVQ AX, 136(DI)
	MOVQ BP, SP
	POPQ BP
	RET
