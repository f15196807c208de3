package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// ErrMissingTensor is wrapped by errors about a tensor the graph needs and
// the checkpoint does not have.
var ErrMissingTensor = errors.New("missing tensor")

// ErrShape is wrapped by errors about a tensor whose shape disagrees with
// the configuration.
var ErrShape = errors.New("tensor shape disagrees with the configuration")

// Params serves a checkpoint's tensors to the compiler by their Hugging
// Face names, whichever format the checkpoint is in. Tensors the model
// derives (converted norm vectors, experts stacked into one tensor) are
// kept beside the mapped ones. It implements ir.ParamSource.
type Params struct {
	m     *weights.Map
	names *weights.Names

	mu      sync.Mutex
	derived map[string]*tensor.Tensor
	// prefixes are other places of the "model." tree (a multimodal
	// checkpoint keeps its text model under "model.language_model.").
	prefixes []string
}

// AlsoUnder makes Find look for "model.X" under each prefix too (for
// example "model.language_model." or "language_model.model.").
func (p *Params) AlsoUnder(prefixes ...string) { p.prefixes = append(p.prefixes, prefixes...) }

// NewParams serves m's tensors; names maps Hugging Face names to GGUF ones.
func NewParams(m *weights.Map, names *weights.Names) *Params {
	return &Params{m: m, names: names, derived: map[string]*tensor.Tensor{}}
}

// Map is the checkpoint behind the parameters.
func (p *Params) Map() *weights.Map { return p.m }

// Find looks a tensor up by its Hugging Face name (or stored name).
func (p *Params) Find(name string) (weights.Tensor, bool) {
	if t, ok := p.m.Lookup(name); ok {
		return t, true
	}
	if p.names != nil {
		if g, ok := p.names.ToGGUF(name); ok {
			if t, ok := p.m.Lookup(g); ok {
				return t, true
			}
		}
	}
	if rest, ok := strings.CutPrefix(name, "model."); ok {
		for _, pre := range p.prefixes {
			if t, ok := p.m.Lookup(pre + rest); ok {
				return t, true
			}
		}
	}
	return weights.Tensor{}, false
}

// Has reports whether the checkpoint (or a derived tensor) has name.
func (p *Params) Has(name string) bool {
	p.mu.Lock()
	_, ok := p.derived[name]
	p.mu.Unlock()
	if ok {
		return true
	}
	_, ok = p.Find(name)
	return ok
}

// Set installs a derived tensor under name.
func (p *Params) Set(name string, t *tensor.Tensor) {
	p.mu.Lock()
	p.derived[name] = t
	p.mu.Unlock()
}

// Derived returns a tensor installed with Set.
func (p *Params) Derived(name string) (*tensor.Tensor, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.derived[name]
	return t, ok
}

// Lookup implements ir.ParamSource.
func (p *Params) Lookup(name string) (tensor.DType, []int, []byte, error) {
	if t, ok := p.Derived(name); ok {
		return t.DType, t.Shape, t.Data, nil
	}
	t, ok := p.Find(name)
	if !ok {
		return 0, nil, nil, p.missing(name)
	}
	shape := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int(d)
	}
	return t.DType, shape, t.Data, nil
}

func (p *Params) missing(name string) error {
	return &weights.Error{Path: p.m.Resolved.Path, Tensor: name, Err: ErrMissingTensor}
}

// Tensor finds name and checks that its shape is want (outermost first),
// returning the dtype the graph should declare. Vectors (norm weights,
// biases) and tensors of types the kernels do not take directly are
// converted to float32 once and served from memory.
func (p *Params) Tensor(name string, want ...int) (tensor.DType, error) {
	if t, ok := p.Derived(name); ok {
		if !sameShape(t.Shape, want) {
			return 0, &weights.Error{Path: p.m.Resolved.Path, Tensor: name, Err: fmt.Errorf("%w: shape %v, want %v", ErrShape, t.Shape, want)}
		}
		return t.DType, nil
	}
	t, ok := p.Find(name)
	if !ok {
		return 0, p.missing(name)
	}
	got := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		got[i] = int(d)
	}
	if !sameShape(got, want) {
		return 0, &weights.Error{Path: t.File, Tensor: t.Name, Err: fmt.Errorf("%w: shape %v, want %v", ErrShape, got, want)}
	}
	if t.DType == tensor.Invalid {
		return 0, &weights.Error{Path: t.File, Tensor: t.Name, Err: fmt.Errorf("tensor type %s is not supported", t.TypeName)}
	}
	switch {
	case t.DType == tensor.F32:
		return tensor.F32, nil
	case len(want) >= 2 && (t.DType == tensor.F16 || t.DType == tensor.BF16 || t.DType.BlockSize() > 1):
		return t.DType, nil
	}
	v, err := t.Float32()
	if err != nil {
		return 0, &weights.Error{Path: t.File, Tensor: t.Name, Err: err}
	}
	p.Set(name, F32Tensor(v, got...))
	return tensor.F32, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// F32Tensor wraps float32 values as a host tensor.
func F32Tensor(v []float32, shape ...int) *tensor.Tensor {
	data := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(f))
	}
	return &tensor.Tensor{DType: tensor.F32, Shape: append([]int(nil), shape...), Data: data}
}
