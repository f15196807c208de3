package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/rlx-go/rlx/format/internal/mmap"
	"github.com/rlx-go/rlx/tensor"
)

// maxNesting bounds nested metadata arrays; real files use at most one level.
const maxNesting = 8

// TensorInfo describes one tensor of a GGUF file.
type TensorInfo struct {
	Name string
	Type GGMLType
	// Dims is ggml's ne[]: Dims[0] is the innermost, contiguous dimension.
	// Shape gives the outermost-first order.
	Dims []uint64
	// Offset is relative to the start of the data section (File.DataOffset).
	Offset uint64
	// Size is the tensor's length in bytes.
	Size uint64
}

// Shape returns the dimensions outermost first (PyTorch/safetensors order):
// the reverse of Dims. A 2-D weight with Dims [in, out] has Shape [out, in].
func (t TensorInfo) Shape() []int64 {
	s := make([]int64, len(t.Dims))
	for i, d := range t.Dims {
		s[len(t.Dims)-1-i] = int64(d)
	}
	return s
}

// Elements is the number of elements (the product of Dims; 1 for 0-D).
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// DType is t.Type as an rlx element type, tensor.Invalid when unsupported.
func (t TensorInfo) DType() tensor.DType {
	d, _ := t.Type.DType()
	return d
}

// Supported returns nil when rlx can compute with t's type, or an error
// wrapping ErrUnsupportedType that names the tensor and the type.
func (t TensorInfo) Supported() error {
	if _, ok := t.Type.DType(); ok {
		return nil
	}
	return fmt.Errorf("tensor %q: %w %s (ggml type %d)", t.Name, ErrUnsupportedType, t.Type, uint32(t.Type))
}

// File is an open GGUF file. Tensor data is read through a read-only memory
// mapping (or an in-memory copy where mmap is unavailable); the slices Data
// returns are valid until Close. Metadata and TensorInfos are ordinary Go
// values that outlive Close.
type File struct {
	Path       string // as given to Open or Parse
	Version    uint32
	Alignment  uint64
	Metadata   *Metadata
	Tensors    []TensorInfo // in file order
	DataOffset int64        // absolute offset of the data section
	Size       int64        // file size in bytes

	data  []byte
	mm    *mmap.Mapping
	index map[string]int
}

// Open maps and parses the GGUF file at path.
func Open(path string) (*File, error) {
	m, err := mmap.Open(path)
	if err != nil {
		return nil, &Error{File: path, Offset: -1, Err: err}
	}
	f, err := Parse(path, m.Bytes())
	if err != nil {
		m.Close()
		return nil, err
	}
	f.mm = m
	return f, nil
}

// Parse parses a whole GGUF file held in data; name is used in errors.
// The returned File keeps data for zero-copy tensor access.
func Parse(name string, data []byte) (*File, error) {
	d := &decoder{b: data, file: name}
	f, err := d.file_()
	if err != nil {
		return nil, err
	}
	f.Path = name
	f.data = data
	f.Size = int64(len(data))
	return f, nil
}

// Close releases the mapping. Slices returned by Data become invalid.
func (f *File) Close() error {
	f.data = nil
	if f.mm != nil {
		err := f.mm.Close()
		f.mm = nil
		return err
	}
	return nil
}

// Tensor returns the descriptor of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// Data returns the bytes of t, a tensor of f, without copying. It works for
// every type, including those Supported rejects.
func (f *File) Data(t TensorInfo) ([]byte, error) {
	if f.data == nil && t.Size > 0 {
		return nil, &Error{File: f.Path, Field: "tensor " + strconv.Quote(t.Name), Offset: -1, Err: errors.New("file is closed")}
	}
	start := uint64(f.DataOffset) + t.Offset
	end := start + t.Size
	if t.Offset > uint64(len(f.data)) || end < start || end > uint64(len(f.data)) {
		return nil, &Error{File: f.Path, Field: "tensor " + strconv.Quote(t.Name), Offset: -1, Err: errors.New("data lies outside the file")}
	}
	return f.data[start:end:end], nil
}

// decoder reads little-endian fields from b, checking every length against
// what is left before slicing or allocating.
type decoder struct {
	b    []byte
	off  int
	file string
}

func (d *decoder) errAt(field string, off int, format string, args ...any) error {
	return &Error{File: d.file, Field: field, Offset: int64(off), Err: fmt.Errorf(format, args...)}
}

func (d *decoder) wrap(field string, off int, err error) error {
	return &Error{File: d.file, Field: field, Offset: int64(off), Err: err}
}

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) take(field string, n uint64) ([]byte, error) {
	if n > uint64(d.left()) {
		return nil, d.wrap(field, d.off, fmt.Errorf("%w: needs %d bytes, %d left", ErrTruncated, n, d.left()))
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p, nil
}

func (d *decoder) u32(field string) (uint32, error) {
	p, err := d.take(field, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

func (d *decoder) u64(field string) (uint64, error) {
	p, err := d.take(field, 8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

// str reads a length-prefixed string, copying it out of the mapping.
func (d *decoder) str(field string) (string, error) {
	start := d.off
	n, err := d.u64(field)
	if err != nil {
		return "", err
	}
	if n > uint64(d.left()) {
		return "", d.errAt(field, start, "string length %d exceeds the %d bytes left", n, d.left())
	}
	p, _ := d.take(field, n)
	return string(p), nil
}

func (d *decoder) file_() (*File, error) {
	if len(d.b) < 4 || string(d.b[:4]) != Magic {
		if len(d.b) >= 4 && string(d.b[:4]) == "FUGG" {
			return nil, d.wrap("magic", 0, ErrBigEndian)
		}
		got := d.b[:min(4, len(d.b))]
		return nil, d.errAt("magic", 0, "not a GGUF file (starts with %q)", got)
	}
	d.off = 4
	version, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case bits.ReverseBytes32(version) == 2 || bits.ReverseBytes32(version) == 3:
		return nil, d.wrap("version", 4, ErrBigEndian)
	case version == 1:
		return nil, d.errAt("version", 4, "GGUF version 1 is obsolete; re-convert the model with a current llama.cpp")
	default:
		return nil, d.errAt("version", 4, "unsupported GGUF version %d (want 2 or 3)", version)
	}
	f := &File{Version: version, Metadata: &Metadata{}}

	nTensors, err := d.u64("tensor_count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("metadata_kv_count")
	if err != nil {
		return nil, err
	}
	// The smallest key/value is 8 (key length) + 4 (type) + 1 (uint8); the
	// smallest tensor descriptor 8 (name length) + 4 + 4 + 8.
	if nKV > uint64(d.left())/13 {
		return nil, d.errAt("metadata_kv_count", 16, "%d key/value pairs cannot fit in the %d bytes left", nKV, d.left())
	}
	if nTensors > uint64(d.left())/24 {
		return nil, d.errAt("tensor_count", 8, "%d tensors cannot fit in the %d bytes left", nTensors, d.left())
	}

	// Counts only bound the loops: storage grows with what is actually
	// read, so a lying count cannot make a large allocation.
	f.Metadata.keys = make([]string, 0, min(nKV, 1024))
	f.Metadata.kv = make(map[string]Value, min(nKV, 1024))
	for i := uint64(0); i < nKV; i++ {
		at := d.off
		key, err := d.str(fmt.Sprintf("metadata key #%d", i))
		if err != nil {
			return nil, err
		}
		field := "metadata " + strconv.Quote(key)
		if f.Metadata.Has(key) {
			return nil, d.errAt(field, at, "duplicate key")
		}
		typ, err := d.u32(field)
		if err != nil {
			return nil, err
		}
		v, err := d.value(field, ValueType(typ), 0)
		if err != nil {
			return nil, err
		}
		f.Metadata.set(key, v)
	}

	f.Alignment = DefaultAlignment
	if v, ok := f.Metadata.Get(KeyAlignment); ok {
		a, isInt := v.Uint()
		if !isInt || v.Type() != Uint32 {
			return nil, d.errAt("metadata \""+KeyAlignment+"\"", -1, "must be a uint32, found %s", v.Type())
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, d.errAt("metadata \""+KeyAlignment+"\"", -1, "alignment %d is not a power of two", a)
		}
		f.Alignment = a
	}

	f.Tensors = make([]TensorInfo, 0, min(nTensors, 4096))
	f.index = make(map[string]int, min(nTensors, 4096))
	for i := uint64(0); i < nTensors; i++ {
		t, err := d.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.index[t.Name]; dup {
			return nil, d.errAt("tensor "+strconv.Quote(t.Name), -1, "duplicate tensor name")
		}
		f.index[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}

	// The data section starts at the next multiple of the alignment. A file
	// without tensors may end right after the descriptors.
	dataOff := alignUp(uint64(d.off), f.Alignment)
	if dataOff > uint64(len(d.b)) {
		if nTensors > 0 {
			return nil, d.wrap("data section", d.off, fmt.Errorf("%w: padding to %d-byte alignment runs past the end", ErrTruncated, f.Alignment))
		}
		dataOff = uint64(len(d.b))
	}
	f.DataOffset = int64(dataOff)
	dataLen := uint64(len(d.b)) - dataOff
	if err := d.checkExtents(f, dataLen); err != nil {
		return nil, err
	}
	return f, nil
}

func alignUp(x, a uint64) uint64 {
	if r := x % a; r != 0 {
		return x + a - r
	}
	return x
}

func (d *decoder) tensorInfo(i uint64) (TensorInfo, error) {
	at := d.off
	name, err := d.str(fmt.Sprintf("tensor #%d name", i))
	if err != nil {
		return TensorInfo{}, err
	}
	field := "tensor " + strconv.Quote(name)
	nd, err := d.u32(field + " n_dims")
	if err != nil {
		return TensorInfo{}, err
	}
	if nd > MaxDims {
		return TensorInfo{}, d.errAt(field, at, "%d dimensions (at most %d allowed)", nd, MaxDims)
	}
	t := TensorInfo{Name: name, Dims: make([]uint64, nd)}
	elems := uint64(1)
	for j := range t.Dims {
		n, err := d.u64(field + " dims")
		if err != nil {
			return TensorInfo{}, err
		}
		if n > math.MaxInt64 {
			return TensorInfo{}, d.errAt(field, at, "dimension %d is %d (negative as int64)", j, n)
		}
		hi, lo := bits.Mul64(elems, n)
		if hi != 0 || lo > math.MaxInt64 {
			return TensorInfo{}, d.errAt(field, at, "element count overflows")
		}
		elems = lo
		t.Dims[j] = n
	}
	typ, err := d.u32(field + " type")
	if err != nil {
		return TensorInfo{}, err
	}
	t.Type = GGMLType(typ)
	if !t.Type.Known() {
		return TensorInfo{}, d.errAt(field, at, "%w: unknown ggml type code %d", ErrUnsupportedType, typ)
	}
	bs, bb := t.Type.BlockSize(), t.Type.BlockBytes()
	if len(t.Dims) > 0 && t.Dims[0]%bs != 0 {
		return TensorInfo{}, d.errAt(field, at, "innermost dimension %d is not a multiple of the %s block size %d", t.Dims[0], t.Type, bs)
	}
	if len(t.Dims) == 0 && bs != 1 {
		return TensorInfo{}, d.errAt(field, at, "a 0-D tensor cannot be %s", t.Type)
	}
	hi, size := bits.Mul64(elems/bs, bb)
	if hi != 0 || size > math.MaxInt64 {
		return TensorInfo{}, d.errAt(field, at, "byte size overflows")
	}
	t.Size = size
	if t.Offset, err = d.u64(field + " offset"); err != nil {
		return TensorInfo{}, err
	}
	return t, nil
}

// checkExtents verifies that every tensor is aligned, lies inside the data
// section, and overlaps no other tensor.
func (d *decoder) checkExtents(f *File, dataLen uint64) error {
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	for _, t := range f.Tensors {
		field := "tensor " + strconv.Quote(t.Name)
		if t.Offset%f.Alignment != 0 {
			return d.errAt(field, -1, "data offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)
		}
		if t.Offset > dataLen || t.Size > dataLen-t.Offset {
			return d.wrap(field, -1, fmt.Errorf("%w: data [%d, +%d) ends past the %d-byte data section", ErrTruncated, t.Offset, t.Size, dataLen))
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := f.Tensors[a], f.Tensors[b]
		switch {
		case ta.Offset < tb.Offset:
			return -1
		case ta.Offset > tb.Offset:
			return 1
		}
		return 0
	})
	for k := 1; k < len(order); k++ {
		prev, cur := f.Tensors[order[k-1]], f.Tensors[order[k]]
		if prev.Size > 0 && cur.Size > 0 && prev.Offset+prev.Size > cur.Offset {
			return d.errAt("tensor "+strconv.Quote(cur.Name), -1, "data overlaps tensor %q", prev.Name)
		}
	}
	return nil
}

// value decodes one metadata value of type typ.
func (d *decoder) value(field string, typ ValueType, depth int) (Value, error) {
	at := d.off
	switch typ {
	case String:
		s, err := d.str(field)
		if err != nil {
			return Value{}, err
		}
		return Value{typ: String, ok: true, str: s}, nil
	case Array:
		return d.array(field, depth)
	}
	n := typ.size()
	if n == 0 {
		return Value{}, d.errAt(field, at-4, "unknown value type %d", uint32(typ))
	}
	p, err := d.take(field, uint64(n))
	if err != nil {
		return Value{}, err
	}
	return Value{typ: typ, ok: true, bits: scalarBits(typ, p)}, nil
}

// scalarBits widens a little-endian scalar, sign-extending signed integers.
func scalarBits(typ ValueType, p []byte) uint64 {
	switch typ {
	case Uint8:
		return uint64(p[0])
	case Bool:
		if p[0] != 0 {
			return 1
		}
		return 0
	case Int8:
		return uint64(int64(int8(p[0])))
	case Uint16:
		return uint64(binary.LittleEndian.Uint16(p))
	case Int16:
		return uint64(int64(int16(binary.LittleEndian.Uint16(p))))
	case Uint32, Float32:
		return uint64(binary.LittleEndian.Uint32(p))
	case Int32:
		return uint64(int64(int32(binary.LittleEndian.Uint32(p))))
	}
	return binary.LittleEndian.Uint64(p)
}

func (d *decoder) array(field string, depth int) (Value, error) {
	at := d.off
	if depth >= maxNesting {
		return Value{}, d.errAt(field, at, "arrays nested deeper than %d", maxNesting)
	}
	et, err := d.u32(field + " array type")
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	if !elem.valid() {
		return Value{}, d.errAt(field, at, "unknown array element type %d", et)
	}
	n, err := d.u64(field + " array length")
	if err != nil {
		return Value{}, err
	}
	// Every element needs at least minSize bytes: check before allocating.
	minSize := uint64(elem.size())
	switch elem {
	case String:
		minSize = 8
	case Array:
		minSize = 12
	}
	if n > uint64(d.left())/minSize {
		return Value{}, d.errAt(field, at, "array of %d %s elements cannot fit in the %d bytes left", n, elem, d.left())
	}
	v := Value{typ: Array, elem: elem, ok: true}
	switch elem {
	case String:
		v.arr, err = d.strings(field, int(n))
	case Array:
		var a []Value // grown as elements are read: a Value is larger than its 12-byte minimum encoding
		for i := uint64(0); i < n; i++ {
			e, err := d.array(field, depth+1)
			if err != nil {
				return Value{}, err
			}
			a = append(a, e)
		}
		if a == nil {
			a = []Value{}
		}
		v.arr = a
	default:
		p, _ := d.take(field, n*minSize)
		v.arr = decodeScalars(elem, p, int(n))
	}
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

// strings decodes n length-prefixed strings with a single copy of their
// bytes: the strings share one backing allocation. A first pass validates
// the lengths, so nothing is allocated for an array that does not fit.
func (d *decoder) strings(field string, n int) ([]string, error) {
	start := d.off
	for i := 0; i < n; i++ {
		at := d.off
		l, err := d.u64(field)
		if err != nil {
			return nil, err
		}
		if l > uint64(d.left()) {
			return nil, d.errAt(field, at, "string #%d length %d exceeds the %d bytes left", i, l, d.left())
		}
		d.off += int(l)
	}
	all := string(d.b[start:d.off])
	out := make([]string, n)
	p := 0
	for i := range out {
		l := int(binary.LittleEndian.Uint64([]byte(all[p : p+8])))
		out[i] = all[p+8 : p+8+l]
		p += 8 + l
	}
	return out, nil
}

func decodeScalars(elem ValueType, p []byte, n int) any {
	le := binary.LittleEndian
	switch elem {
	case Uint8:
		return append([]uint8(nil), p...)
	case Int8:
		return decodeEach(p, n, 1, func(b []byte) int8 { return int8(b[0]) })
	case Bool:
		return decodeEach(p, n, 1, func(b []byte) bool { return b[0] != 0 })
	case Uint16:
		return decodeEach(p, n, 2, le.Uint16)
	case Int16:
		return decodeEach(p, n, 2, func(b []byte) int16 { return int16(le.Uint16(b)) })
	case Uint32:
		return decodeEach(p, n, 4, le.Uint32)
	case Int32:
		return decodeEach(p, n, 4, func(b []byte) int32 { return int32(le.Uint32(b)) })
	case Float32:
		return decodeEach(p, n, 4, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) })
	case Uint64:
		return decodeEach(p, n, 8, le.Uint64)
	case Int64:
		return decodeEach(p, n, 8, func(b []byte) int64 { return int64(le.Uint64(b)) })
	case Float64:
		return decodeEach(p, n, 8, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) })
	}
	return nil
}

// decodeEach decodes n little-endian elements of size bytes each from p.
func decodeEach[T any](p []byte, n, size int, decode func([]byte) T) []T {
	a := make([]T, n)
	for i := range a {
		a[i] = decode(p[size*i:])
	}
	return a
}
