package cpu

import (
	"fmt"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// Prepare implements backend.Backend: it picks the kernel for n's op and
// dtypes and pre-packs constant operands (weights) for it.
func (b *Backend) Prepare(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	if why := supports(n); why != "" {
		return nil, backend.Unsupported("cpu", n, why)
	}
	switch k := n.Op.Kind(); {
	case k == ir.KindUnary || k == ir.KindBinary:
		if n.DType == tensor.F32 {
			return b.fusedKernel(n, singleInstr(n))
		}
		return b.genericElementwise(n), nil
	case k == ir.KindCompare:
		return b.genericElementwise(n), nil
	}
	switch n.Op {
	case ir.OpWhere, ir.OpCast:
		if n.DType == tensor.F32 {
			return b.fusedKernel(n, singleInstr(n))
		}
		if n.Op == ir.OpCast {
			if k := fastCast(n.Inputs[0].DType, n.DType); k != nil {
				return b.parallelCast(k), nil
			}
		}
		return b.genericElementwise(n), nil
	case ir.OpFused:
		return b.fusedKernel(n, n.Attr.(*ir.FusedAttr).Code)
	case ir.OpMatMul:
		k, err := b.matmulKernel(n, consts)
		if m, ok := k.(*matmul); ok && err == nil && m.packed != nil {
			// The kernel multiplies by its packed copy only.
			weights.Release(consts[1].Data)
		}
		return k, err
	case ir.OpDequantMatMul:
		k, err := b.dequantMatMulKernel(n, consts)
		if err == nil && repacked(consts[1].DType) {
			weights.Release(consts[1].Data)
		}
		return k, err
	case ir.OpSoftmax:
		return b.softmaxKernel(n), nil
	case ir.OpLayerNorm, ir.OpRMSNorm:
		return b.normKernel(n, consts)
	case ir.OpRoPE:
		return b.ropeKernel(n, consts)
	case ir.OpAttention:
		return b.attentionKernel(n), nil
	case ir.OpGather:
		return b.gatherKernel(n), nil
	case ir.OpConcat:
		return concatKernel(n), nil
	case ir.OpSlice:
		return sliceKernel(n), nil
	case ir.OpPermute:
		return b.permuteKernel(n), nil
	case ir.OpExpand:
		return expandKernel(n), nil
	case ir.OpPad:
		return padKernel(n)
	case ir.OpRange:
		return rangeKernel(n), nil
	case ir.OpAssign:
		return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, _ backend.Tensor) error {
			copy(raw(ins[0]), raw(ins[1]))
			return nil
		}), nil
	case ir.OpReshape:
		return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
			copy(raw(out), raw(ins[0]))
			return nil
		}), nil
	case ir.OpReduceSum, ir.OpReduceMean, ir.OpReduceMax, ir.OpArgMax:
		return b.reduceKernel(n), nil
	case ir.OpConv1D, ir.OpConv2D:
		return b.convKernel(n, consts)
	case ir.OpTopK:
		return b.topKKernel(n), nil
	case ir.OpRoPETable:
		return b.ropeTableKernel(), nil
	case ir.OpMoE:
		return b.moeKernel(n, consts)
	}
	return nil, fmt.Errorf("cpu: no kernel for %v", n.Op)
}

// repacked reports whether quant.NewMatrix keeps its own repacked copy of
// a weight of type dt, so that the file's pages of the original are not
// read again once the kernel is prepared. (Were a type listed here kept in
// place after all, releasing its pages would cost page faults, not
// correctness.)
func repacked(dt tensor.DType) bool {
	switch dt {
	case tensor.Q8_0, tensor.Q4_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K:
		return true
	}
	return false
}

// singleInstr expresses one elementwise node as a one-instruction chain.
func singleInstr(n *ir.Node) []ir.Instr {
	args := make([]int, len(n.Inputs))
	for i := range args {
		args[i] = i
	}
	return []ir.Instr{{Op: n.Op, Args: args, DType: n.DType, Attr: n.Attr}}
}
