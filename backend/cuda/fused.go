package cuda

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/kernels"
	"github.com/rlx-go/rlx/backend/cuda/nvrtc"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Fused elementwise chains (OpFused) become one CUDA C kernel per distinct
// register program, generated here and compiled by NVRTC (through the disk
// cache, so a model's chains compile once per machine).

const (
	fusedMaxInputs = 8
	fusedMaxRank   = 6
	fusedArgsSize  = 512 // sizeof(FusedArgs) below
)

// fusedHeader is the by-value parameter of every fused kernel: the output
// dims, each input's element strides along them (0 where it broadcasts),
// the input pointers, the element count, the rank, and whether every input
// is laid out like the output (then element i of each is simply i).
const fusedHeader = `struct FusedArgs {
    long long dims[6];
    long long st[8][6];
    const float* in[8];
    long long n;
    int rank;
    int contig;
};
`

// fusedExpr returns the C expression of one instruction over registers
// named r<k>, or "" when it has none.
func fusedExpr(in ir.Instr) string {
	r := func(i int) string { return fmt.Sprintf("r%d", in.Args[i]) }
	un := map[ir.Op]string{
		ir.OpNeg: "-%s", ir.OpAbs: "fabsf(%s)", ir.OpExp: "expf(%s)", ir.OpLog: "logf(%s)", ir.OpSqrt: "sqrtf(%s)",
		ir.OpRsqrt: "(1.0f / sqrtf(%s))", ir.OpRecip: "(1.0f / %s)", ir.OpTanh: "tanhf(%s)",
		ir.OpSigmoid: "(1.0f / (1.0f + expf(-%s)))", ir.OpRelu: "fmaxf(%s, 0.0f)", ir.OpSin: "sinf(%s)",
		ir.OpCos: "cosf(%s)", ir.OpErf: "erff(%s)",
	}
	if f, ok := un[in.Op]; ok {
		return fmt.Sprintf(f, r(0))
	}
	bin := map[ir.Op]string{
		ir.OpAdd: "(%s + %s)", ir.OpSub: "(%s - %s)", ir.OpMul: "(%s * %s)", ir.OpDiv: "(%s / %s)",
		ir.OpPow: "powf(%s, %s)", ir.OpMax: "fmaxf(%s, %s)", ir.OpMin: "fminf(%s, %s)",
		ir.OpLess: "(%s < %s ? 1.0f : 0.0f)", ir.OpLessEq: "(%s <= %s ? 1.0f : 0.0f)",
		ir.OpGreater: "(%s > %s ? 1.0f : 0.0f)", ir.OpGreaterEq: "(%s >= %s ? 1.0f : 0.0f)",
		ir.OpEqual: "(%s == %s ? 1.0f : 0.0f)", ir.OpNotEqual: "(%s != %s ? 1.0f : 0.0f)",
	}
	if f, ok := bin[in.Op]; ok {
		return fmt.Sprintf(f, r(0), r(1))
	}
	switch in.Op {
	case ir.OpSquare:
		return fmt.Sprintf("(%s * %s)", r(0), r(0))
	case ir.OpSilu:
		return fmt.Sprintf("(%s / (1.0f + expf(-%s)))", r(0), r(0))
	case ir.OpGeluErf:
		return fmt.Sprintf("(0.5f * %s * (1.0f + erff(%s * 0.70710678118654752f)))", r(0), r(0))
	case ir.OpGeluTanh:
		x := r(0)
		return fmt.Sprintf("(0.5f * %s * (1.0f + tanhf(0.79788456080286536f * (%s + 0.044715f * %s * %s * %s))))", x, x, x, x, x)
	case ir.OpSoftcap:
		c := in.Attr.(*ir.SoftcapAttr).Cap
		return fmt.Sprintf("((float)%.17g * tanhf(%s / (float)%.17g))", c, r(0), c)
	case ir.OpWhere:
		return fmt.Sprintf("(%s != 0.0f ? %s : %s)", r(0), r(1), r(2))
	case ir.OpCast:
		if in.DType == tensor.F32 {
			return r(0)
		}
	}
	return ""
}

// fusedSource generates the kernel of a fused node, or says why not.
func fusedSource(n *ir.Node) (string, string) {
	at := n.Attr.(*ir.FusedAttr)
	nin := len(n.Inputs)
	if nin > fusedMaxInputs {
		return "", "more than 8 inputs"
	}
	if len(n.Shape) > fusedMaxRank {
		return "", "rank above 6"
	}
	for _, x := range n.Inputs {
		if x.DType != tensor.F32 {
			return "", "fused inputs other than F32"
		}
	}
	var body strings.Builder
	b := &body
	for k := range nin {
		fmt.Fprintf(b, "        long long o%d = i;\n", k)
	}
	b.WriteString("        if (!s.contig) {\n            long long rest = i;\n")
	for k := range nin {
		fmt.Fprintf(b, "            o%d = 0;\n", k)
	}
	b.WriteString("            for (int d = s.rank - 1; d >= 0; d--) {\n                long long c = rest % s.dims[d];\n                rest /= s.dims[d];\n")
	for k := range nin {
		fmt.Fprintf(b, "                o%d += c * s.st[%d][d];\n", k, k)
	}
	b.WriteString("            }\n        }\n")
	for k := range nin {
		fmt.Fprintf(b, "        float r%d = s.in[%d][o%d];\n", k, k, k)
	}
	for i, in := range at.Code {
		e := fusedExpr(in)
		if e == "" {
			return "", fmt.Sprintf("no CUDA form for %v in a fused chain", in.Op)
		}
		fmt.Fprintf(b, "        float r%d = %s;\n", nin+i, e)
	}
	last := nin + len(at.Code) - 1
	var src strings.Builder
	src.WriteString(kernels.Prelude)
	src.WriteString(fusedHeader)
	src.WriteString(fusedSplitHelpers)
	loop := `    RLX_GRID_WAIT();  // launched with LaunchDependent
    RLX_GRID_LAUNCH_DEPENDENTS();
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < s.n; i += (long long)gridDim.x * blockDim.x) {
`
	src.WriteString("extern \"C\" __global__ void fused(float* out, FusedArgs s) {\n" + loop)
	src.WriteString(body.String())
	fmt.Fprintf(&src, "        out[i] = r%d;\n    }\n}\n\n", last)
	// The same chain whose result also goes out as half terms, as
	// split_half (kernels/quant.cu) writes them (fuse.go's splitGroup:
	// the activations of the GEMM after the chain); out may be null.
	src.WriteString("extern \"C\" __global__ void fused_split(float* out, FusedArgs s, unsigned short* h, long long stride,\n" +
		"                                        int parts, int bf16) {\n" + loop)
	src.WriteString(body.String())
	fmt.Fprintf(&src, "        const float y = r%d;\n", last)
	src.WriteString(`        if (out != 0) out[i] = y;
        float left = y;
        for (int p = 0; p < parts; p++) {
            const unsigned short t = bf16 ? fz_f2bf(left) : fz_f2h(left);
            h[p * stride + i] = t;
            left -= bf16 ? fz_bf2f(t) : fz_h2f(t);
        }
    }
}
`)
	return src.String(), ""
}

// fusedSplitHelpers are split_half's conversions (kernels/quant.cu's qt_*),
// for fused_split: the same instructions, so the same terms.
const fusedSplitHelpers = `__device__ __forceinline__ float fz_h2f(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
__device__ __forceinline__ unsigned short fz_f2h(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
__device__ __forceinline__ float fz_bf2f(unsigned short h) { return __uint_as_float((unsigned)h << 16); }
__device__ __forceinline__ unsigned short fz_f2bf(float f) {
    unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}
`

type fused struct {
	b      *Backend
	f      driver.Function
	fsplit driver.Function // fused_split, the chain with half terms out (fuse.go)
}

// fusedKernel compiles (or loads from the cache) the node's kernel.
func (b *Backend) fusedKernel(n *ir.Node) (backend.Kernel, error) {
	src, why := fusedSource(n)
	if why != "" {
		return nil, backend.Unsupported(b.name, n, why)
	}
	sum := sha256.Sum256([]byte(src))
	name := "fused_" + hex.EncodeToString(sum[:6]) + ".cu"
	b.mu.Lock()
	f, ok := b.fusedFns[name]
	fs := b.fusedFns[name+"#split"]
	b.mu.Unlock()
	if ok {
		return &fused{b: b, f: f, fsplit: fs}, nil
	}
	ver, err := driver.Version()
	if err != nil {
		return nil, err
	}
	img, _, err := nvrtc.CompileCached(src, name, nvrtc.Options{Arch: b.ctx.Device.Arch(), Flags: []string{"--std=c++17"}}, ver)
	if err != nil {
		return nil, fmt.Errorf("cuda: fused chain of %v: %w", n, err)
	}
	m, err := b.ctx.LoadModule(img)
	if err != nil {
		return nil, err
	}
	if f, err = b.ctx.Function(m, "fused"); err != nil {
		b.ctx.Unload(m)
		return nil, err
	}
	if fs, err = b.ctx.Function(m, "fused_split"); err != nil {
		b.ctx.Unload(m)
		return nil, err
	}
	b.mu.Lock()
	b.modules = append(b.modules, m)
	b.fusedFns[name] = f
	b.fusedFns[name+"#split"] = fs
	b.mu.Unlock()
	return &fused{b: b, f: f, fsplit: fs}, nil
}

func (k *fused) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	o, n, args, err := k.launchArgs(ins, out)
	if err != nil || n == 0 {
		return err
	}
	return k.b.ctx.LaunchDependent(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, o, args)
}

// launchArgs returns the output's address, its element count and the
// FusedArgs of a launch of the chain over ins into out.
func (k *fused) launchArgs(ins []backend.Tensor, out backend.Tensor) (driver.Ptr, int64, []byte, error) {
	o, ob, err := view(out)
	if err != nil {
		return 0, 0, nil, err
	}
	n := ob / 4
	if n == 0 {
		return o, 0, nil, nil
	}
	args := make([]byte, fusedArgsSize)
	le := binary.LittleEndian
	shape := out.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	contig := 1
	for d, v := range shape {
		le.PutUint64(args[8*d:], uint64(v))
	}
	for k, x := range ins {
		p, xb, err := view(x)
		if err != nil {
			return 0, 0, nil, err
		}
		if xb != ob {
			contig = 0
		}
		if len(x.Shape) > len(shape) {
			return 0, 0, nil, fmt.Errorf("fused input %v has a higher rank than the result %v", x.Shape, out.Shape)
		}
		st := int64(1)
		for i := len(x.Shape) - 1; i >= 0; i-- {
			j := len(shape) - len(x.Shape) + i
			if x.Shape[i] != 1 {
				le.PutUint64(args[48+48*k+8*j:], uint64(st))
			}
			st *= int64(x.Shape[i])
		}
		le.PutUint64(args[432+8*k:], uint64(p))
	}
	le.PutUint64(args[496:], uint64(n))
	le.PutUint32(args[504:], uint32(len(shape)))
	le.PutUint32(args[508:], uint32(contig))
	return o, n, args, nil
}
