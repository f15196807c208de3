package cpu

import (
	"fmt"
	"slices"
	"sync"
	"time"
	"unsafe"

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
		return packReleasing(consts[1], func() (backend.Kernel, bool, error) {
			k, err := b.matmulKernel(n, consts)
			m, ok := k.(*matmul)
			// The kernel multiplies by its packed copy only.
			return k, ok && m.packed != nil, err
		})
	case ir.OpDequantMatMul:
		return packReleasing(consts[1], func() (backend.Kernel, bool, error) {
			k, err := b.dequantMatMulKernel(n, consts)
			return k, repacked(consts[1].DType), err
		})
	case ir.OpSoftmax:
		return b.softmaxKernel(n), nil
	case ir.OpLayerNorm, ir.OpRMSNorm:
		return b.normKernel(n, consts)
	case ir.OpRoPE:
		return b.ropeKernel(n, consts)
	case ir.OpAttention:
		return b.attentionKernel(n), nil
	case ir.OpGather:
		k := b.gatherKernel(n)
		if consts[0] != nil {
			return releasingGather{k}, nil
		}
		return k, nil
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

// releaseBehind is the weight size from which packReleasing drops pages
// while the kernel packs, not only after.
const releaseBehind = 32 << 20

// packReleasing runs prepare, which builds a kernel for the constant
// weight w and reports whether the kernel keeps its own packed copy, and
// then drops w's file pages (weights.Release) when it does, so the packed
// weights are not resident twice. While a large weight is being packed it
// drops them every few milliseconds as well: otherwise the largest weight,
// often the last (a tied embedding used as the output matrix), would be
// resident twice in full just before its release and set the peak. Pages
// the packer has yet to read, or reads again, are faulted back in from the
// page cache: dropping them costs time, never correctness.
func packReleasing(w *tensor.Tensor, prepare func() (backend.Kernel, bool, error)) (backend.Kernel, error) {
	if w == nil {
		k, _, err := prepare()
		return k, err
	}
	var (
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	if len(w.Data) >= releaseBehind {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					weights.Release(w.Data)
				}
			}
		}()
	}
	k, packed, err := prepare()
	close(done)
	wg.Wait()
	if err == nil && packed {
		weights.Release(w.Data)
	}
	return k, err
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

// releasingGather gathers rows of a constant table (a token embedding read
// in place from the mapped file) and then drops the pages it read from the
// process's resident memory (weights.Release). A fault on a mapped file maps
// more than the page it needs (fault-around, and the page cache's large
// folios: about 70 KiB per fault on ext4 under Linux 6.18), so without the
// release a few hundred random tokens leave ~90 MB of Qwen3-0.6B's table
// resident for the ~1 KiB per token they read. The next gather of a row
// faults it back from the page cache (a minor fault); the release is one
// madvise per 2 MiB window, microseconds next to a token's step.
type releasingGather struct{ backend.Kernel }

func (g releasingGather) Run(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	if err := g.Kernel.Run(env, ins, out); err != nil {
		return err
	}
	t := ins[0]
	rowBytes, err := t.DType.RowBytes(int64(tensor.NumElements(t.Shape[1:])))
	if err != nil || rowBytes <= 0 {
		return nil // the gather itself succeeded; only the release is skipped
	}
	tab := raw(t)
	releaseRows(tab, int(rowBytes), ins[1])
	return nil
}

// releaseRows releases the pages around rows ids of tab (rowBytes each):
// every page of the 2 MiB-aligned windows holding a row that lies wholly
// inside tab. A window, not the row's own pages, because a fault maps the
// page's neighbours too (up to a large folio); unmapping a window's empty
// entries is cheap.
func releaseRows(tab []byte, rowBytes int, ids backend.Tensor) {
	const window = 2 << 20
	base := int(uintptr(unsafe.Pointer(unsafe.SliceData(tab))) % window)
	var done [8]int // the last windows released: consecutive ids repeat them
	n := 0
	each := func(id int64) {
		if id < 0 || id >= int64(len(tab)/rowBytes) {
			return
		}
		lo := int(id) * rowBytes
		hi := lo + rowBytes
		lo -= (base + lo) % window
		hi += (window - (base+hi)%window) % window
		for w := lo; w < hi; w += window {
			if slices.Contains(done[:min(n, len(done))], w) {
				continue
			}
			done[n%len(done)] = w
			n++
			weights.Release(tab[max(w, 0):min(w+window, len(tab))])
		}
	}
	if ids.DType == tensor.I32 {
		for _, id := range i32(ids) {
			each(int64(id))
		}
		return
	}
	for _, id := range i64(ids) {
		each(id)
	}
}

// singleInstr expresses one elementwise node as a one-instruction chain.
func singleInstr(n *ir.Node) []ir.Instr {
	args := make([]int, len(n.Inputs))
	for i := range args {
		args[i] = i
	}
	return []ir.Instr{{Op: n.Op, Args: args, DType: n.DType, Attr: n.Attr}}
}
