// Command gen writes the amd64 assembly of package kernels (vec_amd64.s),
// its Go declarations (vec_amd64.go) and the polynomial constants shared
// with the pure-Go twins (polyconst.go). One description of each kernel is
// expanded for AVX-512 (16 lanes, Z registers, opmasks) and AVX2+FMA (8 lanes,
// Y registers, blends), so the two tiers cannot drift apart.
//
//	cd backend/cpu/kernels && go run ./internal/gen
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"math"
	"os"
	"strings"
)

// Constants (float32 values). Polynomial coefficients from fit.go.
var consts = []struct {
	name string
	val  float32
	doc  string
}{
	{"log2e", 1.44269504088896341, ""},
	{"ln2Hi", 0.693145751953125, "ln2 split so that n·ln2Hi is exact for |n| ≤ 150"},
	{"ln2Lo", 1.4286068203094173e-06, ""},
	{"expClampLo", -104.0, "below: exp is 0 (exp(-104) < half the least denormal)"},
	{"expClampHi", 88.8, "above: exp overflows to +Inf (n = 128)"},
	{"e0", 0.49999994, "exp(r) = 1 + r + r²·(e0 + e1 r + e2 r² + e3 r³ + e4 r⁴), |r| ≤ ln2/2"},
	{"e1", 0.16666521, ""},
	{"e2", 0.04166839, ""},
	{"e3", 0.008368711, ""},
	{"e4", 0.001381461, ""},
	{"tanhSmall", 0.55, "tanh(x) = x + x³·(t0 + t1 u + … + t4 u⁴), u = x², for |x| < tanhSmall"},
	{"t0", -0.33333316, ""},
	{"t1", 0.13332586, ""},
	{"t2", -0.05385231, ""},
	{"t3", 0.021071678, ""},
	{"t4", -0.006274239, ""},
	{"erfcZMax", 20.0, "|x| clamp for gelu: erfc(20/√2) is 0 in float32"},
	{"sqrt2OverPi", 0.7978845608028654, "√(2/π), gelu-tanh"},
	{"geluTanhK", 0.044715 * 0.7978845608028654, "0.044715·√(2/π)"},
	{"invSqrt2", 0.7071067811865476, ""},
	{"geluSmall", 1, "gelu uses Φ = 1/2 + (z/2)·R(z²), z = x/√2, for |x| < geluSmall"},
	{"halfInvSqrt2", 0.35355339059327373, "1/(2√2)"},
	{"erfR0", 1.1283792, "erf(z) = z·(erfR0 + erfR1 u + … + erfR5 u⁵), u = z² ≤ 1/2"},
	{"erfR1", -0.3761263, ""},
	{"erfR2", 0.11283537, ""},
	{"erfR3", -0.026844105, ""},
	{"erfR4", 0.0051369965, ""},
	{"erfR5", -0.0006937276, ""},
}

// erfc(z) = t·exp(-z² + P(s)), t = 1/(1+z/2), s = 2t-1.
var erfcP = []float32{
	-0.67179406, 0.6726432, 0.04734275, -0.046895046, -0.009863979,
	0.008815903, 0.0017117013, -0.002286791, -4.7929756e-05, 0.00050923624,
	-0.00013497194,
}

func cval(name string) float32 {
	for _, c := range consts {
		if c.name == name {
			return c.val
		}
	}
	for i, v := range erfcP {
		if name == fmt.Sprintf("erfcP%d", i) {
			return v
		}
	}
	switch name {
	case "one":
		return 1
	case "half":
		return 0.5
	case "two":
		return 2
	case "minus2":
		return -2
	case "zero":
		return 0
	case "negMax":
		return -math.MaxFloat32
	}
	panic(name)
}

type arch struct {
	name  string // suffix: AVX512, AVX2
	lanes int
	v     string // register prefix
	z     bool   // AVX-512
}

var archs = []arch{{"AVX512", 16, "Z", true}, {"AVX2", 8, "Y", false}}

type asm struct {
	b    bytes.Buffer
	a    arch
	used map[string]bool // constants referenced
	bits map[string]uint32
}

func (g *asm) r(i int) string { return fmt.Sprintf("%s%d", g.a.v, i) }

func (g *asm) op(format string, args ...any) {
	fmt.Fprintf(&g.b, "\t"+format+"\n", args...)
}

// c names a 64-byte constant vector in memory (usable as the memory operand).
func (g *asm) c(name string) string {
	g.used[name] = true
	return fmt.Sprintf("c_%s<>(SB)", name)
}

// cbitsSeq names the 64-byte constant 0, 1, …, 15 (int32 lane indices).
func (g *asm) cbitsSeq(name string) string {
	g.bits[name] = seqMarker
	return fmt.Sprintf("c_%s<>(SB)", name)
}

// seqMarker marks a bits constant whose lanes count 0, 1, 2, …
const seqMarker = 0xffffffff

// cbits names a 64-byte integer/bit-pattern constant.
func (g *asm) cbits(name string, v uint32) string {
	g.bits[name] = v
	return fmt.Sprintf("c_%s<>(SB)", name)
}

// blend sets dst = mask ? a : b where mask was produced by cmp (K1 on
// AVX-512, register m on AVX2). a may be a memory operand on AVX2 only via
// register; we keep a and b registers.
func (g *asm) blend(m, a, b, dst string) {
	if g.a.z {
		g.op("VBLENDMPS %s, %s, K1, %s", a, b, dst)
	} else {
		g.op("VBLENDVPS %s, %s, %s, %s", m, a, b, dst)
	}
}

// cmp sets the mask (K1, or register m on AVX2) to x PRED y (y may be memory).
func (g *asm) cmp(pred int, y, x, m string) {
	if g.a.z {
		g.op("VCMPPS $%d, %s, %s, K1", pred, y, x)
	} else {
		g.op("VCMPPS $%d, %s, %s, %s", pred, y, x, m)
	}
}

const (
	cmpLT    = 1  // LT_OS
	cmpUnord = 3  // UNORD_Q
	cmpGE    = 13 // GE_OS
)

// exp computes out = exp(in) (in preserved) using temporaries t1..t3.
func (g *asm) exp(in, out, t1, t2, t3 string) {
	g.op("VMINPS %s, %s, %s", g.c("expClampHi"), in, t1)
	g.op("VMAXPS %s, %s, %s", g.c("expClampLo"), t1, t1)
	g.op("VMULPS %s, %s, %s", g.c("log2e"), t1, t2)
	if g.a.z {
		g.op("VRNDSCALEPS $0, %s, %s", t2, t2)
	} else {
		g.op("VROUNDPS $0, %s, %s", t2, t2)
	}
	g.op("VFNMADD231PS %s, %s, %s", g.c("ln2Hi"), t2, t1)
	g.op("VFNMADD231PS %s, %s, %s", g.c("ln2Lo"), t2, t1)
	g.op("VMOVUPS %s, %s", g.c("e4"), t3)
	for _, e := range []string{"e3", "e2", "e1", "e0"} {
		g.op("VFMADD213PS %s, %s, %s", g.c(e), t1, t3)
	}
	g.op("VMULPS %s, %s, %s", t1, t1, out)
	g.op("VFMADD213PS %s, %s, %s", t1, t3, out)
	g.op("VADDPS %s, %s, %s", g.c("one"), out, out)
	if g.a.z {
		g.op("VSCALEFPS %s, %s, %s", t2, out, out)
	} else {
		// 2^n as 2^n1·2^n2 with n1 = n>>1, so each factor is a normal float
		// and only the last product rounds (into the denormals if needed).
		g.op("VCVTPS2DQ %s, %s", t2, t2)
		g.op("VPSRAD $1, %s, %s", t2, t1)
		g.op("VPSUBD %s, %s, %s", t1, t2, t2)
		g.op("VPADDD %s, %s, %s", g.cbits("bias127", 127), t1, t1)
		g.op("VPSLLD $23, %s, %s", t1, t1)
		g.op("VPADDD %s, %s, %s", g.cbits("bias127", 127), t2, t2)
		g.op("VPSLLD $23, %s, %s", t2, t2)
		g.op("VMULPS %s, %s, %s", t1, out, out)
		g.op("VMULPS %s, %s, %s", t2, out, out)
	}
	// NaN in, NaN out (the clamps replaced it).
	g.cmp(cmpUnord, in, in, t1)
	g.blend(t1, in, out, out)
}

// sigmoid: out = sigmoid(in); temporaries t1..t5. ONE must hold 1.0.
func (g *asm) sigmoid(in, out, t1, t2, t3, t4, t5, one string) {
	g.op("VORPS %s, %s, %s", g.cbits("sign", 0x80000000), in, t4) // -|x|
	g.exp(t4, t5, t1, t2, t3)                                     // e
	g.op("VADDPS %s, %s, %s", one, t5, t4)                        // 1+e
	g.cmp(cmpGE, g.c("zero"), in, t1)
	g.blend(t1, one, t5, t5) // x>=0 ? 1 : e
	g.op("VDIVPS %s, %s, %s", t4, t5, out)
}

func (g *asm) tanh(in, out, t1, t2, t3, t4, t5, t6, one string) {
	g.op("VANDPS %s, %s, %s", g.cbits("abs", 0x7fffffff), in, t4)
	g.op("VMULPS %s, %s, %s", g.c("minus2"), t4, t4)
	g.exp(t4, t5, t1, t2, t3) // e = exp(-2|x|)
	g.op("VSUBPS %s, %s, %s", t5, one, t4)
	g.op("VADDPS %s, %s, %s", one, t5, t5)
	g.op("VDIVPS %s, %s, %s", t5, t4, t4) // (1-e)/(1+e)
	g.op("VANDPS %s, %s, %s", g.cbits("sign", 0x80000000), in, t5)
	g.op("VORPS %s, %s, %s", t5, t4, t4) // big-|x| result with x's sign
	// small |x|: x + x·u·Q(u)
	g.op("VMULPS %s, %s, %s", in, in, t1) // u
	g.op("VMOVUPS %s, %s", g.c("t4"), t2)
	for _, c := range []string{"t3", "t2", "t1", "t0"} {
		g.op("VFMADD213PS %s, %s, %s", g.c(c), t1, t2)
	}
	g.op("VMULPS %s, %s, %s", t1, in, t3)      // x·u
	g.op("VFMADD213PS %s, %s, %s", in, t2, t3) // x·u·q + x
	g.op("VANDPS %s, %s, %s", g.cbits("abs", 0x7fffffff), in, t1)
	g.cmp(cmpLT, g.c("tanhSmall"), t1, t6)
	g.blend(t6, t3, t4, out)
}

// gelu: out = x·Φ(x); needs t1..t9 and ONE.
func (g *asm) gelu(in, out string, t []string, one string) {
	a, hh, hl, tt, s, p, e1 := t[0], t[1], t[2], t[3], t[4], t[5], t[6]
	x1, x2, x3 := t[7], t[8], out
	g.op("VANDPS %s, %s, %s", g.cbits("abs", 0x7fffffff), in, a)
	g.op("VMINPS %s, %s, %s", g.c("erfcZMax"), a, a)
	g.op("VMULPS %s, %s, %s", a, a, hh)
	g.op("VMOVAPS %s, %s", a, hl)
	g.op("VFMSUB213PS %s, %s, %s", hh, a, hl) // a·a - hh exactly
	g.op("VMULPS %s, %s, %s", g.c("half"), hh, hh)
	g.op("VMULPS %s, %s, %s", g.c("half"), hl, hl)
	g.op("VMULPS %s, %s, %s", g.c("invSqrt2"), a, tt)    // z
	g.op("VFMADD132PS %s, %s, %s", g.c("half"), one, tt) // z/2 + 1
	g.op("VDIVPS %s, %s, %s", tt, one, tt)               // t
	g.op("VMOVAPS %s, %s", tt, s)
	g.op("VFMSUB132PS %s, %s, %s", g.c("two"), one, s) // s = 2t - 1
	g.op("VMOVUPS %s, %s", g.c("erfcP10"), p)
	for i := 9; i >= 0; i-- {
		g.op("VFMADD213PS %s, %s, %s", g.c(fmt.Sprintf("erfcP%d", i)), s, p)
	}
	g.op("VSUBPS %s, %s, %s", hl, p, p) // P - hl
	g.op("VXORPS %s, %s, %s", g.cbits("sign", 0x80000000), hh, hh)
	g.exp(hh, e1, x1, x2, x3) // exp(-hh)
	g.exp(p, hl, x1, x2, x3)  // exp(P - hl)
	g.op("VMULPS %s, %s, %s", hl, e1, e1)
	g.op("VMULPS %s, %s, %s", e1, tt, e1)          // erfc
	g.op("VMULPS %s, %s, %s", g.c("half"), e1, x1) // x<0: c/2
	g.op("VMOVAPS %s, %s", e1, x2)
	g.op("VFNMADD132PS %s, %s, %s", g.c("half"), one, x2) // x>=0: 1 - c/2
	g.cmp(cmpGE, g.c("zero"), in, x3)
	g.blend(x3, x2, x1, x1)
	// |x| < 1: Φ = 1/2 + (z/2)·R(z²) keeps full relative accuracy near 0.
	g.op("VXORPS %s, %s, %s", g.cbits("sign", 0x80000000), hh, hh) // z²
	g.op("VMOVUPS %s, %s", g.c("erfR5"), p)
	for i := 4; i >= 0; i-- {
		g.op("VFMADD213PS %s, %s, %s", g.c(fmt.Sprintf("erfR%d", i)), hh, p)
	}
	g.op("VMULPS %s, %s, %s", g.c("halfInvSqrt2"), in, s)
	g.op("VFMADD213PS %s, %s, %s", g.c("half"), p, s)
	g.cmp(cmpLT, g.c("geluSmall"), a, x2)
	g.blend(x2, s, x1, x1)
	g.op("VMULPS %s, %s, %s", x1, in, out)
}

func (g *asm) geluTanh(in, out string, t []string, one string) {
	g.op("VMULPS %s, %s, %s", in, in, t[0])
	g.op("VMOVUPS %s, %s", g.c("sqrt2OverPi"), t[1])
	g.op("VFMADD132PS %s, %s, %s", g.c("geluTanhK"), t[1], t[0]) // x²·k + k0
	g.op("VMULPS %s, %s, %s", t[0], in, t[0])                    // u
	g.op("VADDPS %s, %s, %s", t[0], t[0], t[0])                  // 2u
	g.sigmoid(t[0], t[1], t[2], t[3], t[4], t[5], t[6], one)
	g.op("VMULPS %s, %s, %s", t[1], in, out)
}

// unary emits func name(dst, src *float32, n int) for n a multiple of lanes.
func (g *asm) unary(name string, body func(in, out string)) {
	fmt.Fprintf(&g.b, "\n// func %s%s(dst, src *float32, n int)\nTEXT ·%s%s(SB), NOSPLIT, $0-24\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ n+16(FP), CX")
	g.op("VMOVUPS %s, %s", g.c("one"), g.r(15))
	fmt.Fprintf(&g.b, "loop_%s:\n", name)
	g.op("CMPQ CX, $%d", g.a.lanes)
	g.op("JLT done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	body(g.r(0), g.r(1))
	g.op("VMOVUPS %s, (DI)", g.r(1))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("ADDQ $%d, DI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// glu emits func name(dst, a, b *float32, n int): dst = f(a)·b.
func (g *asm) glu(name string, body func(in, out string)) {
	fmt.Fprintf(&g.b, "\n// func %s%s(dst, a, b *float32, n int)\nTEXT ·%s%s(SB), NOSPLIT, $0-32\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ a+8(FP), SI")
	g.op("MOVQ b+16(FP), DX")
	g.op("MOVQ n+24(FP), CX")
	g.op("VMOVUPS %s, %s", g.c("one"), g.r(15))
	fmt.Fprintf(&g.b, "loop_%s:\n", name)
	g.op("CMPQ CX, $%d", g.a.lanes)
	g.op("JLT done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	body(g.r(0), g.r(1))
	g.op("VMULPS (DX), %s, %s", g.r(1), g.r(1))
	g.op("VMOVUPS %s, (DI)", g.r(1))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("ADDQ $%d, DX", 4*g.a.lanes)
	g.op("ADDQ $%d, DI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// hsum reduces vector register v (index i) into its lowest lane (X i).
func (g *asm) hsum(i, tmp int) {
	x := func(k int) string { return fmt.Sprintf("X%d", k) }
	y := func(k int) string { return fmt.Sprintf("Y%d", k) }
	if g.a.z {
		g.op("VEXTRACTF64X4 $1, Z%d, %s", i, y(tmp))
		g.op("VADDPS %s, %s, %s", y(tmp), y(i), y(i))
	}
	g.op("VEXTRACTF128 $1, %s, %s", y(i), x(tmp))
	g.op("VADDPS %s, %s, %s", x(tmp), x(i), x(i))
	g.op("VMOVHLPS %s, %s, %s", x(i), x(i), x(tmp))
	g.op("VADDPS %s, %s, %s", x(tmp), x(i), x(i))
	g.op("VMOVSHDUP %s, %s", x(i), x(tmp))
	g.op("VADDSS %s, %s, %s", x(tmp), x(i), x(i))
}

// load emits a load of lanes values at mem (float32, or half floats
// converted) into register reg.
func (g *asm) load(half bool, mem, reg string) {
	if half {
		g.op("VCVTPH2PS %s, %s", mem, reg)
	} else {
		g.op("VMOVUPS %s, %s", mem, reg)
	}
}

// dots emits func name(s *float32, n int, q *float32, d int, k *T, stride int):
// s[j] = q·k[j·stride:], d a multiple of lanes (stride in elements). Keys go
// four at a time (four accumulators sharing each load of q), then singly.
func (g *asm) dots(name string, half bool) {
	es := 4
	if half {
		es = 2
	}
	fmt.Fprintf(&g.b, "\n// func %s%s(s *float32, n int, q *float32, d int, k unsafe.Pointer, stride int)\nTEXT ·%s%s(SB), NOSPLIT, $0-48\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ s+0(FP), DI")
	g.op("MOVQ n+8(FP), CX")
	g.op("MOVQ q+16(FP), SI")
	g.op("MOVQ d+24(FP), BX")
	g.op("MOVQ k+32(FP), DX")
	g.op("MOVQ stride+40(FP), R8")
	g.op("SHLQ $%d, R8", map[int]int{4: 2, 2: 1}[es])
	g.op("LEAQ (R8)(R8*2), R12") // 3·stride bytes
	fmt.Fprintf(&g.b, "quad_%s:\n", name)
	g.op("CMPQ CX, $4")
	g.op("JLT key_%s", name)
	for i := range 4 {
		g.op("VXORPS %s, %s, %s", g.r(i), g.r(i), g.r(i))
	}
	g.op("XORQ AX, AX")
	g.op("MOVQ BX, R9")
	fmt.Fprintf(&g.b, "qloop_%s:\n", name)
	g.op("VMOVUPS (SI)(AX*4), %s", g.r(4))
	g.op("LEAQ (DX)(AX*%d), R10", es)
	rows := []string{"(R10)", "(R10)(R8*1)", "(R10)(R8*2)", "(R10)(R12*1)"}
	for i, m := range rows {
		if half {
			g.load(true, m, g.r(5+i))
			g.op("VFMADD231PS %s, %s, %s", g.r(5+i), g.r(4), g.r(i))
		} else {
			g.op("VFMADD231PS %s, %s, %s", m, g.r(4), g.r(i))
		}
	}
	g.op("ADDQ $%d, AX", g.a.lanes)
	g.op("SUBQ $%d, R9", g.a.lanes)
	g.op("JNE qloop_%s", name)
	g.hsum4()
	g.op("ADDQ $16, DI")
	g.op("LEAQ (DX)(R8*4), DX")
	g.op("SUBQ $4, CX")
	g.op("JMP quad_%s", name)
	fmt.Fprintf(&g.b, "key_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VXORPS %s, %s, %s", g.r(0), g.r(0), g.r(0))
	g.op("XORQ AX, AX")
	g.op("MOVQ BX, R9")
	fmt.Fprintf(&g.b, "one_%s:\n", name)
	g.load(half, fmt.Sprintf("(DX)(AX*%d)", es), g.r(2))
	g.op("VFMADD231PS (SI)(AX*4), %s, %s", g.r(2), g.r(0))
	g.op("ADDQ $%d, AX", g.a.lanes)
	g.op("SUBQ $%d, R9", g.a.lanes)
	g.op("JNE one_%s", name)
	g.hsum(0, 1)
	g.op("VMOVSS X0, (DI)")
	g.op("ADDQ $4, DI")
	g.op("ADDQ R8, DX")
	g.op("DECQ CX")
	g.op("JMP key_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// cvt emits the half/single conversions over n (a multiple of lanes) values.
func (g *asm) cvt() {
	fmt.Fprintf(&g.b, "\n// func f16ToF32%s(dst *float32, src *uint16, n int)\nTEXT ·f16ToF32%s(SB), NOSPLIT, $0-24\n", g.a.name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ n+16(FP), CX")
	fmt.Fprintf(&g.b, "loop_f16ToF32:\n")
	g.op("TESTQ CX, CX")
	g.op("JEQ done_f16ToF32")
	g.op("VCVTPH2PS (SI), %s", g.r(0))
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("ADDQ $%d, SI", 2*g.a.lanes)
	g.op("ADDQ $%d, DI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_f16ToF32")
	fmt.Fprintf(&g.b, "done_f16ToF32:\n")
	g.op("VZEROUPPER")
	g.op("RET")
	half := "X1"
	if g.a.z {
		half = "Y1"
	}
	fmt.Fprintf(&g.b, "\n// func f32ToF16%s(dst *uint16, src *float32, n int)\nTEXT ·f32ToF16%s(SB), NOSPLIT, $0-24\n", g.a.name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ n+16(FP), CX")
	fmt.Fprintf(&g.b, "loop_f32ToF16:\n")
	g.op("TESTQ CX, CX")
	g.op("JEQ done_f32ToF16")
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("VCVTPS2PH $0, %s, %s", g.r(0), half)
	g.op("VMOVUPS %s, (DI)", half)
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("ADDQ $%d, DI", 2*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_f32ToF16")
	fmt.Fprintf(&g.b, "done_f32ToF16:\n")
	g.op("VZEROUPPER")
	g.op("RET")
}

// bfma emits acc += broadcast(mem)·vec: an embedded-broadcast FMA on AVX-512,
// a broadcast into tmp then an FMA on AVX2.
func (g *asm) bfma(mem, vec, acc, tmp string) {
	if g.a.z {
		g.op("VFMADD231PS.BCST %s, %s, %s", mem, vec, acc)
	} else {
		g.op("VBROADCASTSS %s, %s", mem, tmp)
		g.op("VFMADD231PS %s, %s, %s", tmp, vec, acc)
	}
}

// scoresT emits func scoresT(st *float32, n int, qt *float32, d int, k *float32, kstride int):
// st[j·L+s] = Σ_t k[j·kstride+t]·qt[t·L+s] for L = lanes query slots: scores
// for all slots at once, keys in blocks of 8 (AVX-512) or 4 (AVX2) with no
// horizontal sums.
func (g *asm) scoresT() {
	name := "scoresT"
	fmt.Fprintf(&g.b, "\n// func %s%s(st *float32, n int, qt *float32, d int, k *float32, kstride int)\nTEXT ·%s%s(SB), NOSPLIT, $0-48\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ st+0(FP), DI")
	g.op("MOVQ n+8(FP), CX")
	g.op("MOVQ qt+16(FP), SI")
	g.op("MOVQ d+24(FP), BX")
	g.op("MOVQ k+32(FP), DX")
	g.op("MOVQ kstride+40(FP), R8")
	g.op("SHLQ $2, R8")
	g.op("LEAQ (R8)(R8*2), R12") // 3s
	g.op("LEAQ (R8)(R8*4), R13") // 5s
	g.op("LEAQ (R12)(R8*4), R9") // 7s
	rowsAddr := []string{"(R11)", "(R11)(R8*1)", "(R11)(R8*2)", "(R11)(R12*1)", "(R11)(R8*4)", "(R11)(R13*1)", "(R11)(R12*2)", "(R11)(R9*1)"}
	blk := 8
	if !g.a.z {
		blk = 4
	}
	vb := 4 * g.a.lanes // bytes per slot vector
	fmt.Fprintf(&g.b, "block_%s:\n", name)
	g.op("CMPQ CX, $%d", blk)
	g.op("JLT single_%s", name)
	for i := range blk {
		g.op("VXORPS %s, %s, %s", g.r(i), g.r(i), g.r(i))
	}
	g.op("MOVQ DX, R11")
	g.op("MOVQ SI, R10")
	g.op("MOVQ BX, AX")
	fmt.Fprintf(&g.b, "bt_%s:\n", name)
	g.op("VMOVUPS (R10), %s", g.r(8))
	for i := range blk {
		g.bfma(rowsAddr[i], g.r(8), g.r(i), g.r(9))
	}
	g.op("ADDQ $4, R11")
	g.op("ADDQ $%d, R10", vb)
	g.op("DECQ AX")
	g.op("JNE bt_%s", name)
	for i := range blk {
		g.op("VMOVUPS %s, %d(DI)", g.r(i), i*vb)
	}
	g.op("ADDQ $%d, DI", blk*vb)
	if blk == 8 {
		g.op("LEAQ (DX)(R8*8), DX")
	} else {
		g.op("LEAQ (DX)(R8*4), DX")
	}
	g.op("SUBQ $%d, CX", blk)
	g.op("JMP block_%s", name)
	fmt.Fprintf(&g.b, "single_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VXORPS %s, %s, %s", g.r(0), g.r(0), g.r(0))
	g.op("MOVQ DX, R11")
	g.op("MOVQ SI, R10")
	g.op("MOVQ BX, AX")
	fmt.Fprintf(&g.b, "st_%s:\n", name)
	g.op("VMOVUPS (R10), %s", g.r(8))
	g.bfma("(R11)", g.r(8), g.r(0), g.r(9))
	g.op("ADDQ $4, R11")
	g.op("ADDQ $%d, R10", vb)
	g.op("DECQ AX")
	g.op("JNE st_%s", name)
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("ADDQ $%d, DI", vb)
	g.op("ADDQ R8, DX")
	g.op("DECQ CX")
	g.op("JMP single_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// softmaxT emits func softmaxT(st *float32, n int, m, l, alpha *float32): one
// online-softmax step for L slots whose scores are the rows of st [n, L]:
// m' = max(m, max_j st[j], −MaxFloat32), alpha = exp(m−m'), st = exp(st−m'),
// l = l·alpha + Σ_j st[j], m = m' (all lane-wise). n ≥ 1.
func (g *asm) softmaxT() {
	name := "softmaxT"
	vb := 4 * g.a.lanes
	fmt.Fprintf(&g.b, "\n// func %s%s(st *float32, n int, m, l, alpha *float32)\nTEXT ·%s%s(SB), NOSPLIT, $0-40\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ st+0(FP), DI")
	g.op("MOVQ n+8(FP), CX")
	g.op("MOVQ m+16(FP), SI")
	g.op("MOVQ l+24(FP), DX")
	g.op("MOVQ alpha+32(FP), R8")
	g.op("VMOVUPS %s, %s", g.c("one"), g.r(15))
	g.op("VMOVUPS %s, %s", g.c("negMax"), g.r(10)) // running max of the tile
	g.op("MOVQ DI, R9")
	g.op("MOVQ CX, AX")
	fmt.Fprintf(&g.b, "max_%s:\n", name)
	g.op("VMAXPS (R9), %s, %s", g.r(10), g.r(10))
	g.op("ADDQ $%d, R9", vb)
	g.op("DECQ AX")
	g.op("JNE max_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(11))                    // m
	g.op("VMAXPS %s, %s, %s", g.r(11), g.r(10), g.r(10)) // m'
	g.op("VMOVUPS %s, (SI)", g.r(10))
	g.op("VSUBPS %s, %s, %s", g.r(10), g.r(11), g.r(11)) // m - m'
	g.exp(g.r(11), g.r(12), g.r(2), g.r(3), g.r(4))      // alpha
	g.op("VMOVUPS %s, (R8)", g.r(12))
	g.op("VXORPS %s, %s, %s", g.r(13), g.r(13), g.r(13)) // sum
	fmt.Fprintf(&g.b, "exp_%s:\n", name)
	g.op("VMOVUPS (DI), %s", g.r(0))
	g.op("VSUBPS %s, %s, %s", g.r(10), g.r(0), g.r(0))
	g.exp(g.r(0), g.r(1), g.r(2), g.r(3), g.r(4))
	g.op("VMOVUPS %s, (DI)", g.r(1))
	g.op("VADDPS %s, %s, %s", g.r(1), g.r(13), g.r(13))
	g.op("ADDQ $%d, DI", vb)
	g.op("DECQ CX")
	g.op("JNE exp_%s", name)
	g.op("VMOVUPS (DX), %s", g.r(0))
	g.op("VFMADD213PS %s, %s, %s", g.r(13), g.r(12), g.r(0)) // l·alpha + sum
	g.op("VMOVUPS %s, (DX)", g.r(0))
	g.op("VZEROUPPER")
	g.op("RET")
}

// pvT emits func pvT(acc *float32, d int, alpha, pt *float32, n int, v *float32, vstride int):
// for every slot s < L: acc[s·d:(s+1)·d] = acc·alpha[s] + Σ_j pt[j·L+s]·v[j·vstride:],
// d a multiple of lanes; slots go four at a time with up to 4 (AVX-512) or
// 2 (AVX2) vectors of d in registers.
func (g *asm) pvT() {
	name := "pvT"
	fmt.Fprintf(&g.b, "\n// func %s%s(acc *float32, d int, alpha, pt *float32, n int, v *float32, vstride int)\nTEXT ·%s%s(SB), NOSPLIT, $0-56\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ acc+0(FP), DI")
	g.op("MOVQ d+8(FP), BX")
	g.op("MOVQ alpha+16(FP), SI")
	g.op("MOVQ pt+24(FP), DX")
	g.op("MOVQ v+40(FP), R9")
	g.op("MOVQ vstride+48(FP), R8")
	g.op("SHLQ $2, R8")
	g.op("MOVQ BX, R13")
	g.op("SHLQ $2, R13") // bytes per slot row of acc
	groups := g.a.lanes / 4
	wmax := 4
	if !g.a.z {
		wmax = 2
	}
	vb := 4 * g.a.lanes
	alphaReg := g.r(11)
	if g.a.z {
		alphaReg = g.r(21)
	}
	for grp := range groups {
		// slot s = 4·grp + i; acc row pointer = DI + s·R13
		g.op("MOVQ $%d, AX", 4*grp)
		g.op("IMULQ R13, AX")
		g.op("LEAQ (DI)(AX*1), R10") // acc of slot 4grp
		g.op("XORQ R12, R12")        // d offset in elements
		for _, w := range []int{wmax, 1} {
			lbl := fmt.Sprintf("%d_%d", grp, w)
			fmt.Fprintf(&g.b, "chunk_%s_%s:\n", name, lbl)
			g.op("MOVQ BX, AX")
			g.op("SUBQ R12, AX")
			g.op("CMPQ AX, $%d", w*g.a.lanes)
			g.op("JLT end_%s_%s", name, lbl)
			// load and scale accumulators: reg(i*w+c) for slot i, chunk c
			for i := range 4 {
				g.op("VBROADCASTSS %d(SI), %s", 4*(4*grp+i), alphaReg)
				for c := range w {
					acc := g.r(i*w + c)
					g.op("LEAQ (R10)(R12*4), R11")
					for range i {
						g.op("ADDQ R13, R11")
					}
					g.op("VMULPS %d(R11), %s, %s", c*vb, alphaReg, acc)
				}
			}
			g.op("MOVQ DX, R11")         // pt row j
			g.op("LEAQ (R9)(R12*4), AX") // v row j, this chunk
			g.op("MOVQ n+32(FP), CX")
			fmt.Fprintf(&g.b, "key_%s_%s:\n", name, lbl)
			for c := range w {
				g.op("VMOVUPS %d(AX), %s", c*vb, g.r(4*w+c))
			}
			for i := range 4 {
				for c := range w {
					g.bfma(fmt.Sprintf("%d(R11)", 4*(4*grp+i)), g.r(4*w+c), g.r(i*w+c), g.r(4*w+w))
				}
			}
			g.op("ADDQ $%d, R11", vb)
			g.op("ADDQ R8, AX")
			g.op("DECQ CX")
			g.op("JNE key_%s_%s", name, lbl)
			for i := range 4 {
				for c := range w {
					g.op("LEAQ (R10)(R12*4), R11")
					for range i {
						g.op("ADDQ R13, R11")
					}
					g.op("VMOVUPS %s, %d(R11)", g.r(i*w+c), c*vb)
				}
			}
			g.op("ADDQ $%d, R12", w*g.a.lanes)
			g.op("JMP chunk_%s_%s", name, lbl)
			fmt.Fprintf(&g.b, "end_%s_%s:\n", name, lbl)
		}
	}
	g.op("VZEROUPPER")
	g.op("RET")
}

// cvtRows emits func f16RowsToF32(dst *float32, src *uint16, rows, d, stride int):
// rows of d halves (d a multiple of lanes) at src+r·stride widened into a
// contiguous [rows, d] block.
func (g *asm) cvtRows() {
	fmt.Fprintf(&g.b, "\n// func f16RowsToF32%s(dst *float32, src *uint16, rows, d, stride int)\nTEXT ·f16RowsToF32%s(SB), NOSPLIT, $0-40\n", g.a.name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ rows+16(FP), CX")
	g.op("MOVQ d+24(FP), BX")
	g.op("MOVQ stride+32(FP), R8")
	g.op("SHLQ $1, R8")
	fmt.Fprintf(&g.b, "row_cvtRows:\n")
	g.op("TESTQ CX, CX")
	g.op("JEQ done_cvtRows")
	g.op("XORQ AX, AX")
	fmt.Fprintf(&g.b, "col_cvtRows:\n")
	g.op("VCVTPH2PS (SI)(AX*2), %s", g.r(0))
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("ADDQ $%d, DI", 4*g.a.lanes)
	g.op("ADDQ $%d, AX", g.a.lanes)
	g.op("CMPQ AX, BX")
	g.op("JLT col_cvtRows")
	g.op("ADDQ R8, SI")
	g.op("DECQ CX")
	g.op("JMP row_cvtRows")
	fmt.Fprintf(&g.b, "done_cvtRows:\n")
	g.op("VZEROUPPER")
	g.op("RET")
}

// rope emits func ropeHalf(dst, src, cos, sin *float32, half, heads, stride int)
// (pairs (k, k+half)) and func ropePair(dst, src, cc, ss *float32, n, heads, stride int)
// (pairs (2k, 2k+1), with cc = cos duplicated and ss = (−sin, sin) per pair).
// Each product is rounded before the sum, as PyTorch's unfused ops do.
func (g *asm) rope() {
	fmt.Fprintf(&g.b, "\n// func ropeHalf%s(dst, src, cos, sin *float32, half, heads, stride int)\nTEXT ·ropeHalf%s(SB), NOSPLIT, $0-56\n", g.a.name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ half+32(FP), BX")
	g.op("MOVQ heads+40(FP), CX")
	g.op("MOVQ stride+48(FP), R8")
	g.op("SHLQ $2, R8")
	g.op("MOVQ BX, R9")
	g.op("SHLQ $2, R9") // half in bytes
	fmt.Fprintf(&g.b, "head_ropeHalf:\n")
	g.op("TESTQ CX, CX")
	g.op("JEQ done_ropeHalf")
	g.op("MOVQ cos+16(FP), DX")
	g.op("MOVQ sin+24(FP), R10")
	g.op("XORQ AX, AX")
	fmt.Fprintf(&g.b, "k_ropeHalf:\n")
	g.op("LEAQ (SI)(AX*4), R11")
	g.op("VMOVUPS (R11), %s", g.r(0))                 // a
	g.op("VMOVUPS (R11)(R9*1), %s", g.r(1))           // b
	g.op("VMOVUPS (DX)(AX*4), %s", g.r(2))            // c
	g.op("VMOVUPS (R10)(AX*4), %s", g.r(3))           // s
	g.op("VMULPS %s, %s, %s", g.r(2), g.r(0), g.r(4)) // a·c
	g.op("VMULPS %s, %s, %s", g.r(3), g.r(1), g.r(5)) // b·s
	g.op("VSUBPS %s, %s, %s", g.r(5), g.r(4), g.r(4))
	g.op("VMULPS %s, %s, %s", g.r(2), g.r(1), g.r(6)) // b·c
	g.op("VMULPS %s, %s, %s", g.r(3), g.r(0), g.r(7)) // a·s
	g.op("VADDPS %s, %s, %s", g.r(7), g.r(6), g.r(6))
	g.op("LEAQ (DI)(AX*4), R12")
	g.op("VMOVUPS %s, (R12)", g.r(4))
	g.op("VMOVUPS %s, (R12)(R9*1)", g.r(6))
	g.op("ADDQ $%d, AX", g.a.lanes)
	g.op("CMPQ AX, BX")
	g.op("JLT k_ropeHalf")
	g.op("ADDQ R8, SI")
	g.op("ADDQ R8, DI")
	g.op("DECQ CX")
	g.op("JMP head_ropeHalf")
	fmt.Fprintf(&g.b, "done_ropeHalf:\n")
	g.op("VZEROUPPER")
	g.op("RET")

	fmt.Fprintf(&g.b, "\n// func ropePair%s(dst, src, cc, ss *float32, n, heads, stride int)\nTEXT ·ropePair%s(SB), NOSPLIT, $0-56\n", g.a.name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ n+32(FP), BX")
	g.op("MOVQ heads+40(FP), CX")
	g.op("MOVQ stride+48(FP), R8")
	g.op("SHLQ $2, R8")
	fmt.Fprintf(&g.b, "head_ropePair:\n")
	g.op("TESTQ CX, CX")
	g.op("JEQ done_ropePair")
	g.op("MOVQ cc+16(FP), DX")
	g.op("MOVQ ss+24(FP), R10")
	g.op("XORQ AX, AX")
	fmt.Fprintf(&g.b, "k_ropePair:\n")
	g.op("VMOVUPS (SI)(AX*4), %s", g.r(0))
	g.op("VPERMILPS $0xB1, %s, %s", g.r(0), g.r(1)) // swap pairs
	g.op("VMULPS (DX)(AX*4), %s, %s", g.r(0), g.r(0))
	g.op("VMULPS (R10)(AX*4), %s, %s", g.r(1), g.r(1))
	g.op("VADDPS %s, %s, %s", g.r(1), g.r(0), g.r(0))
	g.op("VMOVUPS %s, (DI)(AX*4)", g.r(0))
	g.op("ADDQ $%d, AX", g.a.lanes)
	g.op("CMPQ AX, BX")
	g.op("JLT k_ropePair")
	g.op("ADDQ R8, SI")
	g.op("ADDQ R8, DI")
	g.op("DECQ CX")
	g.op("JMP head_ropePair")
	fmt.Fprintf(&g.b, "done_ropePair:\n")
	g.op("VZEROUPPER")
	g.op("RET")
}

// bf16 emits the bfloat16 conversions over n (a multiple of lanes) values:
// widening is a shift; narrowing rounds to nearest even (b + 0x7fff +
// (b>>16 & 1)) >> 16 and keeps NaNs quiet ((b>>16) | 0x40).
func (g *asm) bf16() {
	x := "X0"
	if g.a.z {
		x = "Y0"
	}
	fmt.Fprintf(&g.b, "\n// func bf16ToF32%s(dst *float32, src *uint16, n int)\nTEXT ·bf16ToF32%s(SB), NOSPLIT, $0-24\n", g.a.name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ n+16(FP), CX")
	fmt.Fprintf(&g.b, "loop_bf16ToF32:\n")
	g.op("TESTQ CX, CX")
	g.op("JEQ done_bf16ToF32")
	g.op("VPMOVZXWD (SI), %s", g.r(0))
	g.op("VPSLLD $16, %s, %s", g.r(0), g.r(0))
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("ADDQ $%d, SI", 2*g.a.lanes)
	g.op("ADDQ $%d, DI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_bf16ToF32")
	fmt.Fprintf(&g.b, "done_bf16ToF32:\n")
	g.op("VZEROUPPER")
	g.op("RET")

	fmt.Fprintf(&g.b, "\n// func f32ToBF16%s(dst *uint16, src *float32, n int)\nTEXT ·f32ToBF16%s(SB), NOSPLIT, $0-24\n", g.a.name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ src+8(FP), SI")
	g.op("MOVQ n+16(FP), CX")
	fmt.Fprintf(&g.b, "loop_f32ToBF16:\n")
	g.op("TESTQ CX, CX")
	g.op("JEQ done_f32ToBF16")
	g.op("VMOVUPS (SI), %s", g.r(1))
	g.op("VPSRLD $16, %s, %s", g.r(1), g.r(2)) // b>>16
	and, or := "VPAND", "VPOR"
	if g.a.z {
		and, or = "VPANDD", "VPORD"
	}
	g.op("%s %s, %s, %s", and, g.cbits("int1", 1), g.r(2), g.r(3)) // (b>>16)&1
	g.op("VPADDD %s, %s, %s", g.cbits("int7fff", 0x7fff), g.r(1), g.r(0))
	g.op("VPADDD %s, %s, %s", g.r(3), g.r(0), g.r(0))
	g.op("VPSRLD $16, %s, %s", g.r(0), g.r(0))                        // rounded
	g.op("%s %s, %s, %s", or, g.cbits("int40", 0x40), g.r(2), g.r(2)) // quiet NaN pattern
	g.cmp(cmpUnord, g.r(1), g.r(1), g.r(3))
	g.blend(g.r(3), g.r(2), g.r(0), g.r(0))
	if g.a.z {
		g.op("VPMOVDW %s, %s", g.r(0), x)
		g.op("VMOVDQU %s, (DI)", x)
	} else {
		g.op("VEXTRACTI128 $1, Y0, X1")
		g.op("VPACKUSDW X1, X0, X0")
		g.op("VMOVDQU X0, (DI)")
	}
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("ADDQ $%d, DI", 2*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_f32ToBF16")
	fmt.Fprintf(&g.b, "done_f32ToBF16:\n")
	g.op("VZEROUPPER")
	g.op("RET")
}

// argmax emits func argmaxv(x *float32, n int, vals *float32, idx *int32) int:
// per-lane running maxima (first occurrence kept: strictly greater replaces)
// and their indices over n (a positive multiple of lanes) values, stored to
// vals/idx for the caller to combine; returns 1 if any value is NaN.
func (g *asm) argmax() {
	name := "argmaxv"
	fmt.Fprintf(&g.b, "\n// func %s%s(x *float32, n int, vals *float32, idx *int32) int\nTEXT ·%s%s(SB), NOSPLIT, $0-40\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ x+0(FP), SI")
	g.op("MOVQ n+8(FP), CX")
	g.op("VMOVUPS (SI), %s", g.r(0))                   // running max
	g.op("VMOVUPS %s, %s", g.cbitsSeq("iota"), g.r(1)) // its index
	g.op("VMOVUPS %s, %s", g.r(1), g.r(2))             // current indices
	g.op("VMOVUPS %s, %s", g.cbits(fmt.Sprintf("int%d", g.a.lanes), uint32(g.a.lanes)), g.r(3))
	g.cmp(cmpUnord, g.r(0), g.r(0), g.r(4))
	if g.a.z {
		g.op("KMOVW K1, K3")
	} else {
		g.op("VMOVAPS %s, %s", g.r(4), g.r(6)) // NaN accumulator
	}
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	fmt.Fprintf(&g.b, "loop_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(5))
	g.op("VPADDD %s, %s, %s", g.r(3), g.r(2), g.r(2))
	if g.a.z {
		g.op("VCMPPS $3, Z5, Z5, K2")
		g.op("KORW K2, K3, K3")
		g.op("VCMPPS $14, Z0, Z5, K1") // x > max (GT_OS)
		g.op("VMOVAPS Z5, K1, Z0")
		g.op("VMOVDQA32 Z2, K1, Z1")
	} else {
		g.op("VCMPPS $3, Y5, Y5, Y4")
		g.op("VORPS Y4, Y6, Y6")
		g.op("VCMPPS $14, Y0, Y5, Y4")
		g.op("VBLENDVPS Y4, Y5, Y0, Y0")
		g.op("VBLENDVPS Y4, Y2, Y1, Y1")
	}
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("MOVQ vals+16(FP), DI")
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("MOVQ idx+24(FP), DI")
	g.op("VMOVUPS %s, (DI)", g.r(1))
	if g.a.z {
		g.op("KMOVW K3, AX")
	} else {
		g.op("VMOVMSKPS Y6, AX")
	}
	g.op("MOVQ AX, ret+32(FP)")
	g.op("VZEROUPPER")
	g.op("RET")
}

// scalarOp emits func name(dst, a *float32, n int, s float32) for n a
// multiple of lanes: dst = a op s, two vectors per step.
func (g *asm) scalarOp(name, ins string) {
	fmt.Fprintf(&g.b, "\n// func %s%s(dst, a *float32, n int, s float32)\nTEXT ·%s%s(SB), NOSPLIT, $0-28\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ a+8(FP), SI")
	g.op("MOVQ n+16(FP), CX")
	g.op("VBROADCASTSS s+24(FP), %s", g.r(15))
	fmt.Fprintf(&g.b, "pair_%s:\n", name)
	g.op("CMPQ CX, $%d", 2*g.a.lanes)
	g.op("JLT one_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("VMOVUPS %d(SI), %s", 4*g.a.lanes, g.r(1))
	g.op("%s %s, %s, %s", ins, g.r(15), g.r(0), g.r(0))
	g.op("%s %s, %s, %s", ins, g.r(15), g.r(1), g.r(1))
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("VMOVUPS %s, %d(DI)", g.r(1), 4*g.a.lanes)
	g.op("ADDQ $%d, SI", 8*g.a.lanes)
	g.op("ADDQ $%d, DI", 8*g.a.lanes)
	g.op("SUBQ $%d, CX", 2*g.a.lanes)
	g.op("JMP pair_%s", name)
	fmt.Fprintf(&g.b, "one_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("%s %s, %s, %s", ins, g.r(15), g.r(0), g.r(0))
	g.op("VMOVUPS %s, (DI)", g.r(0))
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// sumSq emits func sumSq(x *float32, n int) float32 (n a multiple of lanes)
// with two accumulators.
func (g *asm) sumSq() {
	name := "sumSq"
	fmt.Fprintf(&g.b, "\n// func %s%s(x *float32, n int) float32\nTEXT ·%s%s(SB), NOSPLIT, $0-20\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ x+0(FP), SI")
	g.op("MOVQ n+8(FP), CX")
	g.op("VXORPS %s, %s, %s", g.r(0), g.r(0), g.r(0))
	g.op("VXORPS %s, %s, %s", g.r(1), g.r(1), g.r(1))
	fmt.Fprintf(&g.b, "pair_%s:\n", name)
	g.op("CMPQ CX, $%d", 2*g.a.lanes)
	g.op("JLT one_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(2))
	g.op("VMOVUPS %d(SI), %s", 4*g.a.lanes, g.r(3))
	g.op("VFMADD231PS %s, %s, %s", g.r(2), g.r(2), g.r(0))
	g.op("VFMADD231PS %s, %s, %s", g.r(3), g.r(3), g.r(1))
	g.op("ADDQ $%d, SI", 8*g.a.lanes)
	g.op("SUBQ $%d, CX", 2*g.a.lanes)
	g.op("JMP pair_%s", name)
	fmt.Fprintf(&g.b, "one_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(2))
	g.op("VFMADD231PS %s, %s, %s", g.r(2), g.r(2), g.r(0))
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VADDPS %s, %s, %s", g.r(1), g.r(0), g.r(0))
	g.hsum(0, 1)
	g.op("VMOVSS X0, ret+16(FP)")
	g.op("VZEROUPPER")
	g.op("RET")
}

// sumDev emits func sumDev(x *float32, n int, m float32, mode int) float32
// over n (a multiple of lanes) values: Σx for mode 0, Σ(x−m)² for mode 1.
func (g *asm) sumDev() {
	name := "sumDev"
	fmt.Fprintf(&g.b, "\n// func %s%s(x *float32, n int, m float32, mode int) float32\nTEXT ·%s%s(SB), NOSPLIT, $0-36\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ x+0(FP), SI")
	g.op("MOVQ n+8(FP), CX")
	g.op("VBROADCASTSS m+16(FP), %s", g.r(14))
	g.op("MOVQ mode+24(FP), BX")
	g.op("VXORPS %s, %s, %s", g.r(0), g.r(0), g.r(0))
	g.op("VXORPS %s, %s, %s", g.r(1), g.r(1), g.r(1))
	g.op("TESTQ BX, BX")
	g.op("JNE dev_%s", name)
	fmt.Fprintf(&g.b, "sum_%s:\n", name)
	g.op("CMPQ CX, $%d", g.a.lanes)
	g.op("JLT done_%s", name)
	g.op("VADDPS (SI), %s, %s", g.r(0), g.r(0))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP sum_%s", name)
	fmt.Fprintf(&g.b, "dev_%s:\n", name)
	g.op("CMPQ CX, $%d", g.a.lanes)
	g.op("JLT done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(2))
	g.op("VSUBPS %s, %s, %s", g.r(14), g.r(2), g.r(2))
	g.op("VFMADD231PS %s, %s, %s", g.r(2), g.r(2), g.r(0))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP dev_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.hsum(0, 1)
	g.op("VMOVSS X0, ret+32(FP)")
	g.op("VZEROUPPER")
	g.op("RET")
}

// normRow emits func normRow(dst, x, w, b *float32, n int, m, inv float32, mode int):
// t = (x−m)·inv; dst = t (mode 0), t·w (1), t·w+b (3), t+b (2).
func (g *asm) normRow() {
	name := "normRow"
	fmt.Fprintf(&g.b, "\n// func %s%s(dst, x, w, b *float32, n int, m, inv float32, mode int)\nTEXT ·%s%s(SB), NOSPLIT, $0-56\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ x+8(FP), SI")
	g.op("MOVQ w+16(FP), DX")
	g.op("MOVQ b+24(FP), R8")
	g.op("MOVQ n+32(FP), CX")
	g.op("VBROADCASTSS m+40(FP), %s", g.r(14))
	g.op("VBROADCASTSS inv+44(FP), %s", g.r(13))
	g.op("MOVQ mode+48(FP), BX")
	fmt.Fprintf(&g.b, "loop_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("VSUBPS %s, %s, %s", g.r(14), g.r(0), g.r(0))
	g.op("VMULPS %s, %s, %s", g.r(13), g.r(0), g.r(0))
	g.op("TESTQ $1, BX")
	g.op("JEQ now_%s", name)
	g.op("TESTQ $2, BX")
	g.op("JEQ wonly_%s", name)
	g.op("VMOVUPS (DX), %s", g.r(1))
	g.op("VFMADD213PS (R8), %s, %s", g.r(1), g.r(0))
	g.op("JMP store_%s", name)
	fmt.Fprintf(&g.b, "wonly_%s:\n", name)
	g.op("VMULPS (DX), %s, %s", g.r(0), g.r(0))
	g.op("JMP store_%s", name)
	fmt.Fprintf(&g.b, "now_%s:\n", name)
	g.op("TESTQ $2, BX")
	g.op("JEQ store_%s", name)
	g.op("VADDPS (R8), %s, %s", g.r(0), g.r(0))
	fmt.Fprintf(&g.b, "store_%s:\n", name)
	g.op("VMOVUPS %s, (DI)", g.r(0))
	for _, r := range []string{"SI", "DX", "R8", "DI"} {
		g.op("ADDQ $%d, %s", 4*g.a.lanes, r)
	}
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// scaleRow emits func scaleRow(dst, x, w *float32, n int, s float32, mode int):
// dst = x·s (mode 0), (x·s)·w (mode 1), (x·s)·(1+w) (mode 2).
func (g *asm) scaleRow() {
	name := "scaleRow"
	fmt.Fprintf(&g.b, "\n// func %s%s(dst, x, w *float32, n int, s float32, mode int)\nTEXT ·%s%s(SB), NOSPLIT, $0-48\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ x+8(FP), SI")
	g.op("MOVQ w+16(FP), DX")
	g.op("MOVQ n+24(FP), CX")
	g.op("VBROADCASTSS s+32(FP), %s", g.r(14))
	g.op("MOVQ mode+40(FP), BX")
	g.op("VMOVUPS %s, %s", g.c("one"), g.r(15))
	fmt.Fprintf(&g.b, "loop_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VMULPS (SI), %s, %s", g.r(14), g.r(0))
	g.op("CMPQ BX, $1")
	g.op("JLT store_%s", name)
	g.op("JEQ plain_%s", name)
	g.op("VADDPS (DX), %s, %s", g.r(15), g.r(1))
	g.op("VMULPS %s, %s, %s", g.r(1), g.r(0), g.r(0))
	g.op("JMP next_%s", name)
	fmt.Fprintf(&g.b, "plain_%s:\n", name)
	g.op("VMULPS (DX), %s, %s", g.r(0), g.r(0))
	fmt.Fprintf(&g.b, "next_%s:\n", name)
	g.op("ADDQ $%d, DX", 4*g.a.lanes)
	fmt.Fprintf(&g.b, "store_%s:\n", name)
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("ADDQ $%d, DI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// axpys emits func name(acc *float32, d int, p *float32, n int, v *T, stride int):
// acc[:d] += Σ_j p[j]·v[j·stride:], d a multiple of lanes. Accumulators for
// up to 4 vectors stay in registers across the keys.
func (g *asm) axpys(name string, half bool) {
	es := 4
	if half {
		es = 2
	}
	fmt.Fprintf(&g.b, "\n// func %s%s(acc *float32, d int, p *float32, n int, v unsafe.Pointer, stride int)\nTEXT ·%s%s(SB), NOSPLIT, $0-48\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ acc+0(FP), DI")
	g.op("MOVQ d+8(FP), BX")
	g.op("MOVQ p+16(FP), SI")
	g.op("MOVQ n+24(FP), CX")
	g.op("MOVQ v+32(FP), DX")
	g.op("MOVQ stride+40(FP), R8")
	g.op("SHLQ $%d, R8", map[int]int{4: 2, 2: 1}[es])
	for _, w := range []int{4, 1} {
		lbl := fmt.Sprintf("%s_%d", name, w)
		fmt.Fprintf(&g.b, "chunk_%s:\n", lbl)
		g.op("CMPQ BX, $%d", w*g.a.lanes)
		g.op("JLT end_%s", lbl)
		for i := range w {
			g.op("VMOVUPS %d(DI), %s", 4*g.a.lanes*i, g.r(i))
		}
		g.op("MOVQ SI, R10") // p
		g.op("MOVQ DX, R11") // v row
		g.op("MOVQ CX, R9")
		fmt.Fprintf(&g.b, "key_%s:\n", lbl)
		g.op("TESTQ R9, R9")
		g.op("JEQ store_%s", lbl)
		g.op("VBROADCASTSS (R10), %s", g.r(8))
		for i := range w {
			if half {
				g.load(true, fmt.Sprintf("%d(R11)", es*g.a.lanes*i), g.r(4+i))
				g.op("VFMADD231PS %s, %s, %s", g.r(4+i), g.r(8), g.r(i))
			} else {
				g.op("VFMADD231PS %d(R11), %s, %s", 4*g.a.lanes*i, g.r(8), g.r(i))
			}
		}
		g.op("ADDQ $4, R10")
		g.op("ADDQ R8, R11")
		g.op("DECQ R9")
		g.op("JMP key_%s", lbl)
		fmt.Fprintf(&g.b, "store_%s:\n", lbl)
		for i := range w {
			g.op("VMOVUPS %s, %d(DI)", g.r(i), 4*g.a.lanes*i)
		}
		g.op("ADDQ $%d, DI", 4*g.a.lanes*w)
		g.op("ADDQ $%d, DX", es*g.a.lanes*w)
		g.op("SUBQ $%d, BX", g.a.lanes*w)
		g.op("JMP chunk_%s", lbl)
		fmt.Fprintf(&g.b, "end_%s:\n", lbl)
	}
	g.op("VZEROUPPER")
	g.op("RET")
}

// hsum4 reduces accumulators 0..3 to four sums stored at (DI) with a
// transpose-and-add tree (cheaper than four horizontal sums).
func (g *asm) hsum4() { g.hsum4At(0, 4, "(DI)") }

// hsum4At reduces accumulators a..a+3 into four floats stored at mem, using
// registers t..t+3 as temporaries.
func (g *asm) hsum4At(a, t int, mem string) {
	r := g.r
	g.op("VUNPCKLPS %s, %s, %s", r(a+1), r(a), r(t))
	g.op("VUNPCKHPS %s, %s, %s", r(a+1), r(a), r(t+1))
	g.op("VADDPS %s, %s, %s", r(t+1), r(t), r(t))
	g.op("VUNPCKLPS %s, %s, %s", r(a+3), r(a+2), r(t+2))
	g.op("VUNPCKHPS %s, %s, %s", r(a+3), r(a+2), r(t+3))
	g.op("VADDPS %s, %s, %s", r(t+3), r(t+2), r(t+2))
	g.op("VUNPCKLPD %s, %s, %s", r(t+2), r(t), r(t+1))
	g.op("VUNPCKHPD %s, %s, %s", r(t+2), r(t), r(t+3))
	g.op("VADDPS %s, %s, %s", r(t+3), r(t+1), r(t+1))
	if g.a.z {
		g.op("VEXTRACTF64X4 $1, Z%d, Y%d", t+1, t+2)
		g.op("VADDPS Y%d, Y%d, Y%d", t+2, t+1, t+1)
	}
	if g.a.z {
		g.op("VEXTRACTF32X4 $1, Y%d, X%d", t+1, t+2)
	} else {
		g.op("VEXTRACTF128 $1, Y%d, X%d", t+1, t+2)
	}
	g.op("VADDPS X%d, X%d, X%d", t+2, t+1, t+1)
	g.op("VMOVUPS X%d, %s", t+1, mem)
}

// dotsG emits func name(s *float32, sstride, n int, q *float32, d int, k unsafe.Pointer, kstride int)
// for a fixed group of G query rows (q holds G rows of d, contiguous):
// s[g·sstride+j] = q_g·k_j, n a multiple of 4, d a multiple of lanes. Each key
// vector is loaded (and widened) once for all G rows.
func (g *asm) dotsG(name string, half bool, G int) {
	es := 4
	if half {
		es = 2
	}
	fmt.Fprintf(&g.b, "\n// func %s%s(s *float32, sstride, n int, q *float32, d int, k unsafe.Pointer, kstride int)\nTEXT ·%s%s(SB), NOSPLIT, $0-56\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ s+0(FP), DI")
	g.op("MOVQ sstride+8(FP), R13")
	g.op("SHLQ $2, R13")
	g.op("MOVQ n+16(FP), CX")
	g.op("MOVQ q+24(FP), SI")
	g.op("MOVQ d+32(FP), BX")
	g.op("MOVQ k+40(FP), DX")
	g.op("MOVQ kstride+48(FP), R8")
	g.op("SHLQ $%d, R8", map[int]int{4: 2, 2: 1}[es])
	g.op("LEAQ (R8)(R8*2), R12")
	g.op("MOVQ BX, R9")
	g.op("SHLQ $2, R9") // bytes per q row
	kreg, qreg := 4*G, 4*G+4
	fmt.Fprintf(&g.b, "quad_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	for i := range 4 * G {
		g.op("VXORPS %s, %s, %s", g.r(i), g.r(i), g.r(i))
	}
	g.op("XORQ AX, AX")
	fmt.Fprintf(&g.b, "dl_%s:\n", name)
	g.op("LEAQ (DX)(AX*%d), R10", es)
	rows := []string{"(R10)", "(R10)(R8*1)", "(R10)(R8*2)", "(R10)(R12*1)"}
	for i, m := range rows {
		g.load(half, m, g.r(kreg+i))
	}
	g.op("LEAQ (SI)(AX*4), R11")
	for gi := range G {
		if gi > 0 {
			g.op("ADDQ R9, R11")
		}
		g.op("VMOVUPS (R11), %s", g.r(qreg))
		for i := range 4 {
			g.op("VFMADD231PS %s, %s, %s", g.r(kreg+i), g.r(qreg), g.r(4*gi+i))
		}
	}
	g.op("ADDQ $%d, AX", g.a.lanes)
	g.op("CMPQ AX, BX")
	g.op("JLT dl_%s", name)
	g.op("MOVQ DI, R11")
	for gi := range G {
		if gi > 0 {
			g.op("ADDQ R13, R11")
		}
		g.hsum4At(4*gi, kreg, "(R11)")
	}
	g.op("ADDQ $16, DI")
	g.op("LEAQ (DX)(R8*4), DX")
	g.op("SUBQ $4, CX")
	g.op("JMP quad_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

// axpysG emits func name(acc *float32, astride, d int, p *float32, pstride, n int, v unsafe.Pointer, vstride int):
// for g < G: acc[g·astride:][:d] += Σ_j p[g·pstride+j]·v[j·vstride:], d a
// multiple of lanes; each value vector is loaded (and widened) once for all
// G rows.
func (g *asm) axpysG(name string, half bool, G int) {
	es := 4
	if half {
		es = 2
	}
	fmt.Fprintf(&g.b, "\n// func %s%s(acc *float32, astride, d int, p *float32, pstride, n int, v unsafe.Pointer, vstride int)\nTEXT ·%s%s(SB), NOSPLIT, $0-64\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ acc+0(FP), DI")
	g.op("MOVQ astride+8(FP), R12")
	g.op("SHLQ $2, R12")
	g.op("MOVQ d+16(FP), BX")
	g.op("MOVQ p+24(FP), SI")
	g.op("MOVQ pstride+32(FP), R13")
	g.op("SHLQ $2, R13")
	g.op("MOVQ v+48(FP), DX")
	g.op("MOVQ vstride+56(FP), R8")
	g.op("SHLQ $%d, R8", map[int]int{4: 2, 2: 1}[es])
	wmax := 4
	if !g.a.z && G > 2 {
		wmax = 2
	}
	for _, w := range []int{wmax, 1} {
		lbl := fmt.Sprintf("%s_%d", name, w)
		vreg, breg := G*w, G*w+w
		fmt.Fprintf(&g.b, "chunk_%s:\n", lbl)
		g.op("CMPQ BX, $%d", w*g.a.lanes)
		g.op("JLT end_%s", lbl)
		g.op("MOVQ DI, R11")
		for gi := range G {
			if gi > 0 {
				g.op("ADDQ R12, R11")
			}
			for c := range w {
				g.op("VMOVUPS %d(R11), %s", 4*g.a.lanes*c, g.r(gi*w+c))
			}
		}
		g.op("MOVQ SI, R10") // p column j
		g.op("MOVQ DX, R11") // v row j
		g.op("MOVQ n+40(FP), CX")
		fmt.Fprintf(&g.b, "key_%s:\n", lbl)
		for c := range w {
			g.load(half, fmt.Sprintf("%d(R11)", es*g.a.lanes*c), g.r(vreg+c))
		}
		g.op("MOVQ R10, AX")
		for gi := range G {
			if gi > 0 {
				g.op("ADDQ R13, AX")
			}
			for c := range w {
				g.bfma("(AX)", g.r(vreg+c), g.r(gi*w+c), g.r(breg))
			}
		}
		g.op("ADDQ $4, R10")
		g.op("ADDQ R8, R11")
		g.op("DECQ CX")
		g.op("JNE key_%s", lbl)
		g.op("MOVQ DI, R11")
		for gi := range G {
			if gi > 0 {
				g.op("ADDQ R12, R11")
			}
			for c := range w {
				g.op("VMOVUPS %s, %d(R11)", g.r(gi*w+c), 4*g.a.lanes*c)
			}
		}
		g.op("ADDQ $%d, DI", 4*g.a.lanes*w)
		g.op("ADDQ $%d, DX", es*g.a.lanes*w)
		g.op("SUBQ $%d, BX", g.a.lanes*w)
		g.op("JMP chunk_%s", lbl)
		fmt.Fprintf(&g.b, "end_%s:\n", lbl)
	}
	g.op("VZEROUPPER")
	g.op("RET")
}

// hmax reduces register i to its maximum in lane 0 (X i).
func (g *asm) hmax(i, tmp int) {
	x := func(k int) string { return fmt.Sprintf("X%d", k) }
	y := func(k int) string { return fmt.Sprintf("Y%d", k) }
	if g.a.z {
		g.op("VEXTRACTF64X4 $1, Z%d, %s", i, y(tmp))
		g.op("VMAXPS %s, %s, %s", y(tmp), y(i), y(i))
	}
	g.op("VEXTRACTF128 $1, %s, %s", y(i), x(tmp))
	g.op("VMAXPS %s, %s, %s", x(tmp), x(i), x(i))
	g.op("VMOVHLPS %s, %s, %s", x(i), x(i), x(tmp))
	g.op("VMAXPS %s, %s, %s", x(tmp), x(i), x(i))
	g.op("VMOVSHDUP %s, %s", x(i), x(tmp))
	g.op("VMAXSS %s, %s, %s", x(tmp), x(i), x(i))
}

// maxv emits func maxv(x *float32, n int) float32 for n a positive multiple of lanes.
func (g *asm) maxv() {
	name := "maxv"
	fmt.Fprintf(&g.b, "\n// func %s%s(x *float32, n int) float32\nTEXT ·%s%s(SB), NOSPLIT, $0-20\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ x+0(FP), SI")
	g.op("MOVQ n+8(FP), CX")
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	fmt.Fprintf(&g.b, "loop_%s:\n", name)
	g.op("CMPQ CX, $%d", g.a.lanes)
	g.op("JLT done_%s", name)
	g.op("VMAXPS (SI), %s, %s", g.r(0), g.r(0))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.hmax(0, 1)
	g.op("VMOVSS X0, ret+16(FP)")
	g.op("VZEROUPPER")
	g.op("RET")
}

// expSubSum emits func expSubSum(x *float32, n int, m float32) float32:
// x[i] = exp(x[i]-m) for n a multiple of lanes, returning Σ x[i].
func (g *asm) expSubSum() {
	name := "expSubSum"
	fmt.Fprintf(&g.b, "\n// func %s%s(x *float32, n int, m float32) float32\nTEXT ·%s%s(SB), NOSPLIT, $0-28\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ x+0(FP), SI")
	g.op("MOVQ n+8(FP), CX")
	g.op("VBROADCASTSS m+16(FP), %s", g.r(14))
	g.op("VXORPS %s, %s, %s", g.r(13), g.r(13), g.r(13))
	fmt.Fprintf(&g.b, "loop_%s:\n", name)
	g.op("CMPQ CX, $%d", g.a.lanes)
	g.op("JLT done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("VSUBPS %s, %s, %s", g.r(14), g.r(0), g.r(0))
	g.exp(g.r(0), g.r(1), g.r(2), g.r(3), g.r(4))
	g.op("VMOVUPS %s, (SI)", g.r(1))
	g.op("VADDPS %s, %s, %s", g.r(1), g.r(13), g.r(13))
	g.op("ADDQ $%d, SI", 4*g.a.lanes)
	g.op("SUBQ $%d, CX", g.a.lanes)
	g.op("JMP loop_%s", name)
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.hsum(13, 1)
	g.op("VMOVSS X13, ret+24(FP)")
	g.op("VZEROUPPER")
	g.op("RET")
}

// binary emits func name(dst, a, b *float32, n int) for n a multiple of
// lanes, two vectors per step.
func (g *asm) binary(name, ins string) {
	fmt.Fprintf(&g.b, "\n// func %s%s(dst, a, b *float32, n int)\nTEXT ·%s%s(SB), NOSPLIT, $0-32\n", name, g.a.name, name, g.a.name)
	g.op("MOVQ dst+0(FP), DI")
	g.op("MOVQ a+8(FP), SI")
	g.op("MOVQ b+16(FP), DX")
	g.op("MOVQ n+24(FP), CX")
	fmt.Fprintf(&g.b, "pair_%s:\n", name)
	g.op("CMPQ CX, $%d", 2*g.a.lanes)
	g.op("JLT one_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("VMOVUPS %d(SI), %s", 4*g.a.lanes, g.r(1))
	g.op("%s (DX), %s, %s", ins, g.r(0), g.r(0))
	g.op("%s %d(DX), %s, %s", ins, 4*g.a.lanes, g.r(1), g.r(1))
	g.op("VMOVUPS %s, (DI)", g.r(0))
	g.op("VMOVUPS %s, %d(DI)", g.r(1), 4*g.a.lanes)
	for _, r := range []string{"SI", "DX", "DI"} {
		g.op("ADDQ $%d, %s", 8*g.a.lanes, r)
	}
	g.op("SUBQ $%d, CX", 2*g.a.lanes)
	g.op("JMP pair_%s", name)
	fmt.Fprintf(&g.b, "one_%s:\n", name)
	g.op("TESTQ CX, CX")
	g.op("JEQ done_%s", name)
	g.op("VMOVUPS (SI), %s", g.r(0))
	g.op("%s (DX), %s, %s", ins, g.r(0), g.r(0))
	g.op("VMOVUPS %s, (DI)", g.r(0))
	fmt.Fprintf(&g.b, "done_%s:\n", name)
	g.op("VZEROUPPER")
	g.op("RET")
}

func tmps(g *asm, from, n int) []string {
	var out []string
	for i := range n {
		out = append(out, g.r(from+i))
	}
	return out
}

func main() {
	var text bytes.Buffer
	text.WriteString("// Code generated by internal/gen; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n")
	used := map[string]bool{}
	bits := map[string]uint32{}
	var decls []string
	for _, a := range archs {
		g := &asm{a: a, used: used, bits: bits}
		one := g.r(15)
		g.unary("exp", func(in, out string) { g.exp(in, out, g.r(2), g.r(3), g.r(4)) })
		g.unary("sigmoid", func(in, out string) { g.sigmoid(in, out, g.r(2), g.r(3), g.r(4), g.r(5), g.r(6), one) })
		g.unary("silu", func(in, out string) {
			g.sigmoid(in, out, g.r(2), g.r(3), g.r(4), g.r(5), g.r(6), one)
			g.op("VMULPS %s, %s, %s", in, out, out)
		})
		g.unary("tanh", func(in, out string) { g.tanh(in, out, g.r(2), g.r(3), g.r(4), g.r(5), g.r(6), g.r(7), one) })
		g.unary("gelu", func(in, out string) { g.gelu(in, out, tmps(g, 2, 9), one) })
		g.unary("geluTanh", func(in, out string) { g.geluTanh(in, out, tmps(g, 2, 7), one) })
		g.glu("siluMul", func(in, out string) {
			g.sigmoid(in, out, g.r(2), g.r(3), g.r(4), g.r(5), g.r(6), one)
			g.op("VMULPS %s, %s, %s", in, out, out)
		})
		g.glu("geluMul", func(in, out string) { g.gelu(in, out, tmps(g, 2, 9), one) })
		g.glu("geluTanhMul", func(in, out string) { g.geluTanh(in, out, tmps(g, 2, 7), one) })
		g.dots("dotsF32", false)
		g.dots("dotsF16", true)
		g.axpys("axpysF32", false)
		g.axpys("axpysF16", true)
		gmax := 4
		if !a.z {
			gmax = 2
		}
		for _, G := range []int{2, 4} {
			if G > gmax {
				continue
			}
			for _, h := range []bool{false, true} {
				t := "F32"
				if h {
					t = "F16"
				}
				dn, an := fmt.Sprintf("dots%sG%d", t, G), fmt.Sprintf("axpys%sG%d", t, G)
				g.dotsG(dn, h, G)
				g.axpysG(an, h, G)
				decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(s *float32, sstride, n int, q *float32, d int, k unsafe.Pointer, kstride int)\n", dn, a.name))
				decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(acc *float32, astride, d int, p *float32, pstride, n int, v unsafe.Pointer, vstride int)\n", an, a.name))
			}
		}
		g.maxv()
		g.expSubSum()
		g.cvt()
		g.cvtRows()
		g.bf16()
		for _, b := range [][2]string{{"adds", "VADDPS"}, {"subs", "VSUBPS"}, {"muls", "VMULPS"}, {"divs", "VDIVPS"}} {
			g.scalarOp(b[0], b[1])
			decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(dst, a *float32, n int, s float32)\n", b[0], a.name))
		}
		g.argmax()
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc argmaxv%s(x *float32, n int, vals *float32, idx *int32) int\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc bf16ToF32%s(dst *float32, src *uint16, n int)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc f32ToBF16%s(dst *uint16, src *float32, n int)\n", a.name))
		g.rope()
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc ropeHalf%s(dst, src, cos, sin *float32, half, heads, stride int)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc ropePair%s(dst, src, cc, ss *float32, n, heads, stride int)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc f16RowsToF32%s(dst *float32, src *uint16, rows, d, stride int)\n", a.name))
		g.sumSq()
		g.scaleRow()
		g.sumDev()
		g.scoresT()
		g.softmaxT()
		g.pvT()
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc scoresT%s(st *float32, n int, qt *float32, d int, k *float32, kstride int)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc softmaxT%s(st *float32, n int, m, l, alpha *float32)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc pvT%s(acc *float32, d int, alpha, pt *float32, n int, v *float32, vstride int)\n", a.name))
		g.normRow()
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc sumDev%s(x *float32, n int, m float32, mode int) float32\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc normRow%s(dst, x, w, b *float32, n int, m, inv float32, mode int)\n", a.name))
		for _, b := range [][2]string{{"addv", "VADDPS"}, {"subv", "VSUBPS"}, {"mulv", "VMULPS"}, {"divv", "VDIVPS"}} {
			g.binary(b[0], b[1])
			decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(dst, a, b *float32, n int)\n", b[0], a.name))
		}
		text.Write(g.b.Bytes())
		for _, n := range []string{"exp", "sigmoid", "silu", "tanh", "gelu", "geluTanh"} {
			decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(dst, src *float32, n int)\n", n, a.name))
		}
		for _, n := range []string{"siluMul", "geluMul", "geluTanhMul"} {
			decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(dst, a, b *float32, n int)\n", n, a.name))
		}
		for _, n := range []string{"dotsF32", "dotsF16"} {
			decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(s *float32, n int, q *float32, d int, k unsafe.Pointer, stride int)\n", n, a.name))
		}
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc maxv%s(x *float32, n int) float32\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc sumSq%s(x *float32, n int) float32\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc f16ToF32%s(dst *float32, src *uint16, n int)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc f32ToF16%s(dst *uint16, src *float32, n int)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc scaleRow%s(dst, x, w *float32, n int, s float32, mode int)\n", a.name))
		decls = append(decls, fmt.Sprintf("//go:noescape\nfunc expSubSum%s(x *float32, n int, m float32) float32\n", a.name))
		for _, n := range []string{"axpysF32", "axpysF16"} {
			decls = append(decls, fmt.Sprintf("//go:noescape\nfunc %s%s(acc *float32, d int, p *float32, n int, v unsafe.Pointer, stride int)\n", n, a.name))
		}
	}
	// Data: every constant replicated over 64 bytes.
	names := sortedKeys(used)
	for _, n := range names {
		v := math.Float32bits(cval(n))
		emitData(&text, n, v)
	}
	for _, n := range sortedKeys(bitsKeys(bits)) {
		emitData(&text, n, bits[n])
	}
	must(os.WriteFile("vec_amd64.s", text.Bytes(), 0o644))

	var d bytes.Buffer
	d.WriteString("// Code generated by internal/gen; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\npackage kernels\n\nimport \"unsafe\"\n\n")
	d.WriteString(strings.Join(decls, "\n"))
	src, err := format.Source(d.Bytes())
	must(err)
	must(os.WriteFile("vec_amd64.go", src, 0o644))

	var c bytes.Buffer
	c.WriteString("// Code generated by internal/gen; DO NOT EDIT.\n\npackage kernels\n\n// Constants shared by the assembly and the pure-Go twins.\nconst (\n")
	for _, k := range consts {
		if k.doc != "" {
			fmt.Fprintf(&c, "\t// %s\n", k.doc)
		}
		fmt.Fprintf(&c, "\t%s float32 = %v\n", k.name, k.val)
	}
	c.WriteString(")\n\n// erfcP: erfc(z) = t·exp(−z² + P(s)), t = 1/(1+z/2), s = 2t−1 (z ≥ 0).\nvar erfcP = [...]float32{")
	for i, v := range erfcP {
		if i > 0 {
			c.WriteString(", ")
		}
		fmt.Fprintf(&c, "%v", v)
	}
	c.WriteString("}\n")
	src, err = format.Source(c.Bytes())
	must(err)
	must(os.WriteFile("polyconst.go", src, 0o644))
}

func bitsKeys(m map[string]uint32) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func emitData(b *bytes.Buffer, name string, v uint32) {
	for i := range 16 {
		w := v
		if v == seqMarker {
			w = uint32(i)
		}
		fmt.Fprintf(b, "DATA c_%s<>+%d(SB)/4, $0x%08x\n", name, 4*i, w)
	}
	fmt.Fprintf(b, "GLOBL c_%s<>(SB), RODATA|NOPTR, $64\n", name)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
