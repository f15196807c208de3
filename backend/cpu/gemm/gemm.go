package gemm

import (
	"errors"
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// Layout says how the B operand is stored.
type Layout uint8

const (
	// KN is B[K,N] row-major: element (k, n) at k*Stride+n.
	KN Layout = iota
	// NK is B[N,K] row-major, the nn.Linear weight layout: element (k, n)
	// at n*Stride+k. C = A·Bᵀ in the usual notation.
	NK
)

// String names the layout as the constants do.
func (l Layout) String() string {
	switch l {
	case KN:
		return "KN"
	case NK:
		return "NK"
	}
	return fmt.Sprintf("Layout(%d)", uint8(l))
}

// Matrix is a row-major float32 matrix view: element (i, j) is
// Data[i*Stride+j]. Stride 0 means dense (the row length).
type Matrix struct {
	Data   []float32
	Stride int
}

// B is the right-hand operand: float32 in either layout, or float16 /
// bfloat16 bits in the NK layout (weights as checkpoints store them), which
// are converted to float32 while packing.
type B struct {
	Layout Layout
	DType  tensor.DType // F32, F16 or BF16; the zero value means F32
	F32    []float32    // the elements when DType is F32
	U16    []uint16     // the elements' bits when DType is F16 or BF16
	Stride int          // elements between rows as stored; 0 means dense
}

// ErrShape reports operands whose lengths or strides do not fit the
// requested dimensions.
var ErrShape = errors.New("gemm: operand does not fit the shape")

// MatMul computes C[M,N] = A[M,K]·B, or C += A·B when accumulate is set,
// on the pool's workers (nil means parallel.Default()).
func MatMul(p *parallel.Pool, c Matrix, a Matrix, b B, m, n, k int, accumulate bool) error {
	return BatchedMatMul(p, 1, c, 0, a, 0, b, 0, m, n, k, accumulate)
}

// BatchedMatMul runs batch independent products: item i reads A at element
// offset i*strideA, B at i*strideB and writes C at i*strideC (a stride of 0
// broadcasts one operand to every item). Small items are spread across the
// workers whole; large ones each use all workers.
func BatchedMatMul(p *parallel.Pool, batch int, c Matrix, strideC int, a Matrix, strideA int, b B, strideB int, m, n, k int, accumulate bool) error {
	if p == nil {
		p = parallel.Default()
	}
	pr, err := newProblem(batch, c, strideC, a, strideA, b, strideB, m, n, k)
	if err != nil {
		return err
	}
	pr.accumulate = accumulate
	pr.run(p, activeTier())
	return nil
}

// Item places one product of a batch: element offsets of its A, B and C
// within the operands' data.
type Item struct{ A, B, C int }

// MatMulItems runs one product per item, each reading A, B and writing C at
// the item's offsets, with the shared shape and strides. It serves batches
// that a single stride cannot describe, such as grouped-query attention,
// where several query heads share one key head. Items must write disjoint
// parts of C.
func MatMulItems(p *parallel.Pool, items []Item, c Matrix, a Matrix, b B, m, n, k int, accumulate bool) error {
	if p == nil {
		p = parallel.Default()
	}
	if len(items) == 0 {
		return nil
	}
	// Item 0's check at offset 0 is implied by every item's below.
	pr, err := newProblem(1, c, 0, a, 0, b, 0, m, n, k)
	if err != nil {
		return err
	}
	pr.batch = len(items)
	blen := len(b.F32)
	if pr.b.DType != tensor.F32 {
		blen = len(b.U16)
	}
	brows, bcols := k, n
	if b.Layout == NK {
		brows, bcols = n, k
	}
	for i, it := range items {
		if it.A < 0 || it.B < 0 || it.C < 0 {
			return fmt.Errorf("%w: item %d has a negative offset", ErrShape, i)
		}
		if err := need(fmt.Sprintf("item %d C", i), len(c.Data)-min(it.C, len(c.Data)), 1, 0, m, n, pr.ldc); err != nil {
			return err
		}
		if err := need(fmt.Sprintf("item %d A", i), len(a.Data)-min(it.A, len(a.Data)), 1, 0, m, k, pr.lda); err != nil {
			return err
		}
		if err := need(fmt.Sprintf("item %d B", i), blen-min(it.B, blen), 1, 0, brows, bcols, pr.ldb); err != nil {
			return err
		}
	}
	pr.items = items
	pr.accumulate = accumulate
	pr.run(p, activeTier())
	return nil
}

// problem is a validated (batched) multiplication.
type problem struct {
	batch        int
	m, n, k      int
	c            []float32
	ldc, strideC int
	a            []float32
	lda, strideA int
	b            B
	ldb, strideB int
	accumulate   bool
	packed       *PackedB // instead of b, when set
	items        []Item   // per-item offsets instead of strides, when set
}

func dense(stride, cols int) int {
	if stride == 0 {
		return cols
	}
	return stride
}

// need reports whether a buffer of length have holds rows×cols elements at
// the given stride, repeated batch times at the given batch stride.
func need(name string, have, batch, bstride, rows, cols, stride int) error {
	if rows == 0 || cols == 0 || batch == 0 {
		return nil
	}
	if stride < cols {
		return fmt.Errorf("%w: %s stride %d < row length %d", ErrShape, name, stride, cols)
	}
	if bstride < 0 {
		return fmt.Errorf("%w: %s batch stride %d < 0", ErrShape, name, bstride)
	}
	last := (batch-1)*bstride + (rows-1)*stride + cols
	if last > have {
		return fmt.Errorf("%w: %s needs %d elements, has %d", ErrShape, name, last, have)
	}
	return nil
}

func newProblem(batch int, c Matrix, strideC int, a Matrix, strideA int, b B, strideB int, m, n, k int) (*problem, error) {
	pr, err := checkAC(batch, c, strideC, a, strideA, m, n, k)
	if err != nil {
		return nil, err
	}
	if b.DType == tensor.Invalid {
		b.DType = tensor.F32
	}
	pr.b, pr.strideB = b, strideB
	var blen int
	switch b.DType {
	case tensor.F32:
		blen = len(b.F32)
	case tensor.F16, tensor.BF16:
		if b.Layout != NK {
			return nil, fmt.Errorf("%w: %v weights must use the NK layout", ErrShape, b.DType)
		}
		blen = len(b.U16)
	default:
		return nil, fmt.Errorf("gemm: B dtype %v not supported (want F32, F16 or BF16)", b.DType)
	}
	switch b.Layout {
	case KN:
		pr.ldb = dense(b.Stride, n)
		if err := need("B", blen, batch, strideB, k, n, pr.ldb); err != nil {
			return nil, err
		}
	case NK:
		pr.ldb = dense(b.Stride, k)
		if err := need("B", blen, batch, strideB, n, k, pr.ldb); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("gemm: B layout %v not supported", b.Layout)
	}
	return pr, nil
}

// checkAC validates the dimensions and the A and C operands.
func checkAC(batch int, c Matrix, strideC int, a Matrix, strideA int, m, n, k int) (*problem, error) {
	if m < 0 || n < 0 || k < 0 || batch < 0 {
		return nil, fmt.Errorf("%w: negative size (batch %d, M %d, N %d, K %d)", ErrShape, batch, m, n, k)
	}
	pr := &problem{
		batch: batch, m: m, n: n, k: k,
		c: c.Data, ldc: dense(c.Stride, n), strideC: strideC,
		a: a.Data, lda: dense(a.Stride, k), strideA: strideA,
	}
	if err := need("C", len(c.Data), batch, strideC, m, n, pr.ldc); err != nil {
		return nil, err
	}
	if err := need("A", len(a.Data), batch, strideA, m, k, pr.lda); err != nil {
		return nil, err
	}
	if batch > 1 && strideC == 0 && m > 0 && n > 0 {
		return nil, fmt.Errorf("%w: C batch stride 0 would make items overwrite each other", ErrShape)
	}
	return pr, nil
}
