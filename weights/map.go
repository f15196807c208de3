package weights

import (
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/format/safetensors"
)

// Map is the set of tensors of one checkpoint, over one or more files.
// Close releases the files; Tensors handed out before stay valid until then.
type Map struct {
	Resolved *Resolved

	names   *Names
	order   []string
	tensors map[string]Tensor
	ggufs   []*gguf.File
	sts     []*safetensors.File
}

// Open resolves path (see Resolve) and opens its files.
func Open(path string, opts ...Option) (*Map, error) {
	r, err := Resolve(path, opts...)
	if err != nil {
		return nil, err
	}
	return OpenResolved(r, opts...)
}

// OpenResolved opens the files r names.
func OpenResolved(r *Resolved, opts ...Option) (*Map, error) {
	o := options(opts)
	m := &Map{Resolved: r, names: o.Names, tensors: map[string]Tensor{}}
	var err error
	switch r.Format {
	case GGUF:
		err = m.openGGUF(r.Files)
	case Safetensors:
		err = m.openSafetensors(r)
	default:
		err = &Error{Path: r.Path, Err: fmt.Errorf("unknown format %q", r.Format)}
	}
	if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Map) add(t Tensor) error {
	if prev, dup := m.tensors[t.Name]; dup {
		return &Error{Path: t.File, Tensor: t.Name, Err: fmt.Errorf("also in %s", filepath.Base(prev.File))}
	}
	m.tensors[t.Name] = t
	m.order = append(m.order, t.Name)
	return nil
}

func (m *Map) openGGUF(files []string) error {
	var fs []*gguf.File
	var err error
	if len(files) > 1 {
		fs, err = gguf.OpenSplit(files[0])
	} else {
		var f *gguf.File
		if f, err = gguf.Open(files[0]); err == nil {
			if c, _ := f.Metadata.Uint32(gguf.KeySplitCount); c > 1 {
				f.Close()
				fs, err = gguf.OpenSplit(files[0])
			} else {
				fs = []*gguf.File{f}
			}
		}
	}
	if err != nil {
		return err
	}
	m.ggufs = fs
	for _, f := range fs {
		for _, ti := range f.Tensors {
			data, err := f.Data(ti)
			if err != nil {
				return err
			}
			if err := m.add(Tensor{Name: ti.Name, DType: ti.DType(), TypeName: ti.Type.String(), Shape: ti.Shape(), Data: data, File: f.Path}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Map) openSafetensors(r *Resolved) error {
	var ix *safetensors.Index
	if r.IndexPath != "" {
		var err error
		if ix, err = safetensors.ReadIndex(r.IndexPath); err != nil {
			return err
		}
	}
	for _, p := range r.Files {
		f, err := safetensors.Open(p)
		if err != nil {
			return err
		}
		m.sts = append(m.sts, f)
		for _, ti := range f.Tensors {
			data, err := f.Data(ti)
			if err != nil {
				return err
			}
			if err := m.add(Tensor{Name: ti.Name, DType: ti.DType, TypeName: ti.DType.String(), Shape: ti.Shape, Data: data, File: p}); err != nil {
				return err
			}
		}
	}
	if ix != nil {
		for name, shard := range ix.WeightMap {
			t, ok := m.tensors[name]
			if !ok {
				return &Error{Path: r.IndexPath, Tensor: name, Err: fmt.Errorf("listed in the index, absent from %s", shard)}
			}
			if filepath.Base(t.File) != shard {
				return &Error{Path: r.IndexPath, Tensor: name, Err: fmt.Errorf("index says %s, found in %s", shard, filepath.Base(t.File))}
			}
		}
	}
	return nil
}

// Format is the checkpoint's file format.
func (m *Map) Format() Format { return m.Resolved.Format }

// Files are the files behind the Map.
func (m *Map) Files() []string { return append([]string(nil), m.Resolved.Files...) }

// Len is the number of tensors.
func (m *Map) Len() int { return len(m.order) }

// Names lists the tensors' stored names, in file order (files in order).
func (m *Map) Names() []string { return append([]string(nil), m.order...) }

// All yields every tensor, in the order of Names.
func (m *Map) All() iter.Seq2[string, Tensor] {
	return func(yield func(string, Tensor) bool) {
		for _, n := range m.order {
			if !yield(n, m.tensors[n]) {
				return
			}
		}
	}
}

// Lookup finds a tensor by its stored name or, when the Map has a name
// mapping, by its Hugging Face or GGUF twin.
func (m *Map) Lookup(name string) (Tensor, bool) {
	if t, ok := m.tensors[name]; ok {
		return t, true
	}
	if m.names == nil {
		return Tensor{}, false
	}
	if alt, ok := m.names.ToGGUF(name); ok {
		if t, ok := m.tensors[alt]; ok {
			return t, true
		}
	}
	if alt, ok := m.names.ToHF(name); ok {
		if t, ok := m.tensors[alt]; ok {
			return t, true
		}
	}
	return Tensor{}, false
}

// Tensor is Lookup with an error that names the tensor and the checkpoint.
func (m *Map) Tensor(name string) (Tensor, error) {
	t, ok := m.Lookup(name)
	if !ok {
		return Tensor{}, &Error{Path: m.Resolved.Path, Tensor: name, Err: ErrNotFound}
	}
	return t, nil
}

// Float32 returns the named tensor converted to float32 (see Tensor.Float32).
func (m *Map) Float32(name string) ([]float32, error) {
	t, err := m.Tensor(name)
	if err != nil {
		return nil, err
	}
	out, err := t.Float32()
	if err != nil {
		return nil, &Error{Path: t.File, Err: err}
	}
	return out, nil
}

// GGUF returns the metadata of a GGUF checkpoint (the first part of a split
// one), or nil for safetensors.
func (m *Map) GGUF() *gguf.Metadata {
	if len(m.ggufs) == 0 {
		return nil
	}
	return m.ggufs[0].Metadata
}

// GGUFFiles returns the open GGUF files (parts in order), nil for safetensors.
func (m *Map) GGUFFiles() []*gguf.File { return append([]*gguf.File(nil), m.ggufs...) }

// SafetensorsMetadata returns the "__metadata__" strings of the first
// safetensors file (nil for GGUF or when absent).
func (m *Map) SafetensorsMetadata() map[string]string {
	if len(m.sts) == 0 {
		return nil
	}
	return m.sts[0].Metadata
}

// Unsupported lists the tensors whose type rlx cannot compute with, each
// error naming the tensor and its type.
func (m *Map) Unsupported() []error {
	var errs []error
	for _, n := range m.order {
		t := m.tensors[n]
		if !t.DType.Valid() {
			errs = append(errs, &Error{Path: t.File, Tensor: n, Err: fmt.Errorf("%w %s", gguf.ErrUnsupportedType, t.TypeName)})
		}
	}
	return errs
}

// Close releases every file. Tensor data handed out becomes invalid.
func (m *Map) Close() error {
	var errs []error
	for _, f := range m.ggufs {
		errs = append(errs, f.Close())
	}
	for _, f := range m.sts {
		errs = append(errs, f.Close())
	}
	m.ggufs, m.sts = nil, nil
	return errors.Join(errs...)
}

// String describes the Map in one line.
func (m *Map) String() string {
	return fmt.Sprintf("%s: %d tensors in %s", m.Resolved.Format, len(m.order), strings.Join(baseNamesList(m.Resolved.Files), ", "))
}

func baseNamesList(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = filepath.Base(s)
	}
	return out
}
