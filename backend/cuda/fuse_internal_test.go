package cuda

import (
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// TestFuseHazards pins the view checks that decide whether a group of
// launches may become one kernel (no GPU needed).
func TestFuseHazards(t *testing.T) {
	a, b := &Buffer{n: 1 << 20}, &Buffer{n: 1 << 20}
	v := func(buf *Buffer, off int64, n int) backend.Tensor {
		return backend.Tensor{Buf: buf, Off: off, DType: tensor.F32, Shape: []int{n}}
	}
	x, y := v(a, 0, 256), v(a, 1024, 256)
	if !sameView(x, v(a, 0, 256)) || sameView(x, v(a, 0, 255)) || sameView(x, v(b, 0, 256)) {
		t.Error("sameView")
	}
	if overlap(x, y) || !overlap(x, v(a, 1020, 4)) || overlap(x, v(b, 0, 256)) || overlap(x, v(a, 512, 0)) {
		t.Error("overlap")
	}
	if !hazardFree([]backend.Tensor{y}, []backend.Tensor{x}, nil) {
		t.Error("disjoint views refused")
	}
	if hazardFree([]backend.Tensor{v(a, 512, 256)}, []backend.Tensor{x}, nil) {
		t.Error("a write over a read accepted")
	}
	if hazardFree([]backend.Tensor{y, v(a, 1500, 8)}, nil, nil) {
		t.Error("overlapping writes accepted")
	}
	if !hazardFree([]backend.Tensor{x}, []backend.Tensor{x, y}, []backend.Tensor{x}) {
		t.Error("an in-place row refused")
	}
	if hazardFree([]backend.Tensor{x}, []backend.Tensor{v(a, 4, 256)}, []backend.Tensor{x}) {
		t.Error("a shifted in-place view accepted")
	}
	rel := []backend.Launch{{Release: []backend.Tensor{y}}}
	if !released(rel, y) || released(rel, x) {
		t.Error("released")
	}
	node := func(code ...ir.Instr) *ir.Node {
		return &ir.Node{Op: ir.OpFused, Inputs: make([]*ir.Node, 2), Attr: &ir.FusedAttr{Code: code, Inputs: 2}}
	}
	silu := ir.Instr{Op: ir.OpSilu, Args: []int{0}}
	if !isSiluMul(node(silu, ir.Instr{Op: ir.OpMul, Args: []int{2, 1}})) || !isSiluMul(node(silu, ir.Instr{Op: ir.OpMul, Args: []int{1, 2}})) {
		t.Error("silu(a)·b not recognised")
	}
	if isSiluMul(node(ir.Instr{Op: ir.OpSilu, Args: []int{1}}, ir.Instr{Op: ir.OpMul, Args: []int{2, 0}})) ||
		isSiluMul(node(silu, ir.Instr{Op: ir.OpAdd, Args: []int{2, 1}})) || isSiluMul(node(silu)) {
		t.Error("another chain taken for silu(a)·b")
	}
}
