package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Writer streams a GGUF (version 3) file. NewWriter writes the header, the
// metadata and every tensor descriptor at once, with offsets computed from
// the declared types and dimensions; the tensors' bytes then follow, one
// WriteTensor (or WriteTensorFrom) call per tensor in declaration order, so
// a file of any size is written without holding it in memory.
//
// The layout matches llama.cpp's writers: data starts at the first multiple
// of the alignment after the descriptors, and every tensor is zero-padded
// to the alignment, including the last.
type Writer struct {
	w       io.Writer
	closer  io.Closer // set by Create
	bw      *bufio.Writer
	tensors []TensorInfo
	next    int
	align   uint64
	err     error
}

// NewWriter writes (and flushes) the header of a GGUF file holding md and
// tensors to w.
// Each tensor needs Name, Type and Dims (ggml order, innermost first);
// Offset and Size are computed and can be read back with Tensors. The
// alignment is md's general.alignment (a power-of-two uint32) or 32.
func NewWriter(w io.Writer, md *Metadata, tensors []TensorInfo) (*Writer, error) {
	if md == nil {
		md = &Metadata{}
	}
	gw := &Writer{w: w, bw: bufio.NewWriterSize(w, 1<<16), align: DefaultAlignment}
	if v, ok := md.Get(KeyAlignment); ok {
		a, isInt := v.Uint()
		if !isInt || v.Type() != Uint32 || a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("gguf: %s must be a power-of-two uint32, got %s %s", KeyAlignment, v.Type(), v)
		}
		gw.align = a
	}
	seen := make(map[string]bool, len(tensors))
	var off uint64
	for _, t := range tensors {
		if seen[t.Name] {
			return nil, fmt.Errorf("gguf: tensor %q declared twice", t.Name)
		}
		seen[t.Name] = true
		if len(t.Dims) > MaxDims {
			return nil, fmt.Errorf("gguf: tensor %q: %d dimensions (at most %d)", t.Name, len(t.Dims), MaxDims)
		}
		if !t.Type.Known() {
			return nil, fmt.Errorf("gguf: tensor %q: %w: %s", t.Name, ErrUnsupportedType, t.Type)
		}
		size, err := tensorBytes(t)
		if err != nil {
			return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		t.Dims = append([]uint64(nil), t.Dims...)
		t.Offset, t.Size = off, size
		off = alignUp(off+size, gw.align)
		gw.tensors = append(gw.tensors, t)
	}

	gw.raw([]byte(Magic))
	gw.u32(3)
	gw.u64(uint64(len(tensors)))
	gw.u64(uint64(md.Len()))
	for _, k := range md.keys {
		v := md.kv[k]
		gw.str(k)
		gw.u32(uint32(v.typ))
		if err := gw.value(v); err != nil {
			return nil, fmt.Errorf("gguf: metadata %q: %w", k, err)
		}
	}
	var hdr uint64 = 4 + 4 + 8 + 8
	for _, k := range md.keys {
		hdr += 8 + uint64(len(k)) + 4 + encodedSize(md.kv[k])
	}
	for _, t := range gw.tensors {
		gw.str(t.Name)
		gw.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			gw.u64(d)
		}
		gw.u32(uint32(t.Type))
		gw.u64(t.Offset)
		hdr += 8 + uint64(len(t.Name)) + 4 + 8*uint64(len(t.Dims)) + 4 + 8
	}
	// gguf-py leaves a file without tensors unpadded; so do we, to write
	// the same bytes.
	if len(tensors) > 0 {
		gw.pad(hdr)
	}
	// Flush, so that w holds the whole header even if no tensor follows.
	if gw.err == nil {
		gw.err = gw.bw.Flush()
	}
	if gw.err != nil {
		return nil, gw.err
	}
	return gw, nil
}

// Create creates (or truncates) the file at path and returns a Writer for
// it; Close then also closes the file.
func Create(path string, md *Metadata, tensors []TensorInfo) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, md, tensors)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.closer = f
	return w, nil
}

func tensorBytes(t TensorInfo) (uint64, error) {
	n := uint64(1)
	for _, d := range t.Dims {
		if d != 0 && n > math.MaxInt64/d {
			return 0, errors.New("element count overflows")
		}
		n *= d
	}
	bs := t.Type.BlockSize()
	if len(t.Dims) > 0 && t.Dims[0]%bs != 0 {
		return 0, fmt.Errorf("innermost dimension %d is not a multiple of the %s block size %d", t.Dims[0], t.Type, bs)
	}
	return n / bs * t.Type.BlockBytes(), nil
}

// Tensors returns the declared tensors with their computed Offset and Size.
func (w *Writer) Tensors() []TensorInfo { return append([]TensorInfo(nil), w.tensors...) }

// WriteTensor writes the bytes of the next declared tensor, which must be
// called name and be exactly its size.
func (w *Writer) WriteTensor(name string, data []byte) error {
	t, err := w.expect(name)
	if err != nil {
		return err
	}
	if uint64(len(data)) != t.Size {
		w.err = fmt.Errorf("gguf: tensor %q: got %d bytes, want %d", name, len(data), t.Size)
		return w.err
	}
	w.raw(data)
	return w.finish(t)
}

// WriteTensorFrom copies the next declared tensor's bytes from r, which
// must supply at least its size.
func (w *Writer) WriteTensorFrom(name string, r io.Reader) error {
	t, err := w.expect(name)
	if err != nil {
		return err
	}
	n, err := io.CopyN(w.bw, r, int64(t.Size))
	if err != nil {
		w.err = fmt.Errorf("gguf: tensor %q: copied %d of %d bytes: %w", name, n, t.Size, err)
		return w.err
	}
	return w.finish(t)
}

func (w *Writer) expect(name string) (TensorInfo, error) {
	if w.err != nil {
		return TensorInfo{}, w.err
	}
	if w.next >= len(w.tensors) {
		w.err = fmt.Errorf("gguf: tensor %q: all %d declared tensors are written", name, len(w.tensors))
		return TensorInfo{}, w.err
	}
	t := w.tensors[w.next]
	if t.Name != name {
		w.err = fmt.Errorf("gguf: tensor %q written out of order: %q comes next", name, t.Name)
		return TensorInfo{}, w.err
	}
	return t, nil
}

func (w *Writer) finish(t TensorInfo) error {
	w.pad(t.Size)
	w.next++
	return w.err
}

// Close checks that every declared tensor was written and flushes. It
// closes the file when the Writer came from Create, not otherwise.
func (w *Writer) Close() error {
	err := w.err
	if err == nil && w.next < len(w.tensors) {
		err = fmt.Errorf("gguf: closed after %d of %d tensors; next is %q", w.next, len(w.tensors), w.tensors[w.next].Name)
	}
	if err == nil {
		err = w.bw.Flush()
	}
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil {
			err = cerr
		}
		w.closer = nil
	}
	if w.err == nil {
		w.err = errors.New("gguf: writer is closed")
	}
	return err
}

func (w *Writer) raw(p []byte) {
	if w.err == nil {
		_, w.err = w.bw.Write(p)
	}
}

func (w *Writer) u32(x uint32) { w.raw(binary.LittleEndian.AppendUint32(nil, x)) }
func (w *Writer) u64(x uint64) { w.raw(binary.LittleEndian.AppendUint64(nil, x)) }
func (w *Writer) str(s string) {
	w.u64(uint64(len(s)))
	if w.err == nil {
		_, w.err = w.bw.WriteString(s)
	}
}

var zeros [256]byte

// pad writes the zeros that bring n written bytes to the alignment.
func (w *Writer) pad(n uint64) {
	k := alignUp(n, w.align) - n
	for k > 0 {
		c := min(k, uint64(len(zeros)))
		w.raw(zeros[:c])
		k -= c
	}
}

func (w *Writer) value(v Value) error {
	switch v.typ {
	case String:
		w.str(v.str)
	case Array:
		return w.array(v)
	default:
		n := v.typ.size()
		if n == 0 || !v.ok {
			return fmt.Errorf("invalid value type %s", v.typ)
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v.bits)
		w.raw(b[:n])
	}
	return nil
}

func (w *Writer) array(v Value) error {
	w.u32(uint32(v.elem))
	n := arrayLen(v.arr)
	w.u64(uint64(n))
	if nested, ok := v.arr.([]Value); ok {
		for _, e := range nested {
			if e.typ != Array {
				return errors.New("nested array element is not an array")
			}
			if err := w.array(e); err != nil {
				return err
			}
		}
		return nil
	}
	if s, ok := v.arr.([]string); ok {
		for _, e := range s {
			w.str(e)
		}
		return nil
	}
	w.raw(encodeScalars(v.arr))
	return nil
}

// encodeScalars encodes a numeric or bool slice little-endian.
func encodeScalars(a any) []byte {
	le := binary.LittleEndian
	var b []byte
	switch a := a.(type) {
	case []uint8:
		return a
	case []int8:
		for _, x := range a {
			b = append(b, byte(x))
		}
	case []bool:
		for _, x := range a {
			if x {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	case []uint16:
		for _, x := range a {
			b = le.AppendUint16(b, x)
		}
	case []int16:
		for _, x := range a {
			b = le.AppendUint16(b, uint16(x))
		}
	case []uint32:
		for _, x := range a {
			b = le.AppendUint32(b, x)
		}
	case []int32:
		for _, x := range a {
			b = le.AppendUint32(b, uint32(x))
		}
	case []float32:
		for _, x := range a {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
	case []uint64:
		for _, x := range a {
			b = le.AppendUint64(b, x)
		}
	case []int64:
		for _, x := range a {
			b = le.AppendUint64(b, uint64(x))
		}
	case []float64:
		for _, x := range a {
			b = le.AppendUint64(b, math.Float64bits(x))
		}
	}
	return b
}

// encodedSize is the number of bytes value(v) writes.
func encodedSize(v Value) uint64 {
	switch v.typ {
	case String:
		return 8 + uint64(len(v.str))
	case Array:
		return arraySize(v)
	}
	return uint64(v.typ.size())
}

func arraySize(v Value) uint64 {
	n := uint64(4 + 8)
	switch a := v.arr.(type) {
	case []Value:
		for _, e := range a {
			n += arraySize(e)
		}
	case []string:
		for _, s := range a {
			n += 8 + uint64(len(s))
		}
	default:
		n += uint64(arrayLen(a)) * uint64(v.elem.size())
	}
	return n
}
