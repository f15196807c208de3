package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx/tensor"
)

// Writer streams a safetensors file. NewWriter writes the header at once,
// with byte ranges laid out contiguously in the order the tensors are
// given; the tensors' bytes then follow, one WriteTensor call per tensor in
// that order.
//
// The header is compact JSON ("__metadata__" first, keys sorted; then the
// tensors, each as {"dtype","shape","data_offsets"}) padded with spaces to
// a multiple of 8 bytes, as the reference implementation writes it, so the
// data section starts 8-byte aligned.
type Writer struct {
	bw      *bufio.Writer
	closer  io.Closer
	tensors []TensorInfo
	next    int
	err     error
}

// NewWriter writes the header for tensors (Name, DType, Shape; Begin and End
// are computed) and metadata (nil: no "__metadata__" entry) to w.
func NewWriter(w io.Writer, tensors []TensorInfo, metadata map[string]string) (*Writer, error) {
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if metadata != nil {
		hdr.WriteString(`"__metadata__":{`)
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				hdr.WriteByte(',')
			}
			jsonString(&hdr, k)
			hdr.WriteByte(':')
			jsonString(&hdr, metadata[k])
		}
		hdr.WriteByte('}')
	}
	sw := &Writer{bw: bufio.NewWriterSize(w, 1<<16)}
	seen := map[string]bool{}
	var off int64
	for i, t := range tensors {
		if t.Name == MetadataKey || seen[t.Name] {
			return nil, fmt.Errorf("safetensors: tensor name %q is reserved or repeated", t.Name)
		}
		seen[t.Name] = true
		name, ok := DTypeName(t.DType)
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: dtype %v cannot be stored", t.Name, t.DType)
		}
		elems := uint64(1)
		for _, d := range t.Shape {
			hi, lo := bits.Mul64(elems, uint64(d))
			if d < 0 || hi != 0 || lo > 1<<62 {
				return nil, fmt.Errorf("safetensors: tensor %q: bad shape %v", t.Name, t.Shape)
			}
			elems = lo
		}
		size := int64(elems) * int64(t.DType.BlockBytes())
		t.Shape = slices.Clone(t.Shape)
		if t.Shape == nil {
			t.Shape = []int64{}
		}
		t.Begin, t.End = off, off+size
		off += size
		sw.tensors = append(sw.tensors, t)

		if i > 0 || metadata != nil {
			hdr.WriteByte(',')
		}
		jsonString(&hdr, t.Name)
		hdr.WriteString(`:{"dtype":"` + name + `","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				hdr.WriteByte(',')
			}
			hdr.WriteString(strconv.FormatInt(d, 10))
		}
		fmt.Fprintf(&hdr, `],"data_offsets":[%d,%d]}`, t.Begin, t.End)
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	if hdr.Len() > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header of %d bytes exceeds %d", hdr.Len(), MaxHeaderSize)
	}
	sw.raw(binary.LittleEndian.AppendUint64(nil, uint64(hdr.Len())))
	sw.raw(hdr.Bytes())
	if sw.err != nil {
		return nil, sw.err
	}
	return sw, nil
}

// Create creates (or truncates) the file at path and returns a Writer for
// it; Close then also closes the file.
func Create(path string, tensors []TensorInfo, metadata map[string]string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, tensors, metadata)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.closer = f
	return w, nil
}

// jsonString writes s as a JSON string without HTML escaping, as the
// reference implementation does.
func jsonString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // cannot fail for a string
	b.Write(bytes.TrimSuffix(tmp.Bytes(), []byte{'\n'}))
}

// Tensors returns the declared tensors with their computed byte ranges.
func (w *Writer) Tensors() []TensorInfo { return slices.Clone(w.tensors) }

// WriteTensor writes the next tensor's bytes; name and length must match
// the declaration.
func (w *Writer) WriteTensor(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.tensors) || w.tensors[w.next].Name != name {
		w.err = fmt.Errorf("safetensors: tensor %q written out of order", name)
		return w.err
	}
	t := w.tensors[w.next]
	if int64(len(data)) != t.End-t.Begin {
		w.err = fmt.Errorf("safetensors: tensor %q: got %d bytes, want %d", name, len(data), t.End-t.Begin)
		return w.err
	}
	w.raw(data)
	w.next++
	return w.err
}

// Close checks that every tensor was written and flushes; it closes the
// file when the Writer came from Create.
func (w *Writer) Close() error {
	err := w.err
	if err == nil && w.next < len(w.tensors) {
		err = fmt.Errorf("safetensors: closed after %d of %d tensors", w.next, len(w.tensors))
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
		w.err = errors.New("safetensors: writer is closed")
	}
	return err
}

func (w *Writer) raw(p []byte) {
	if w.err == nil {
		_, w.err = w.bw.Write(p)
	}
}

// referenceRank is the position of each dtype in the reference
// implementation's dtype enumeration, which its writer sorts by.
var referenceRank = map[tensor.DType]int{
	tensor.Bool: 0, tensor.U8: 4, tensor.I8: 5, tensor.F8E5M2: 6, tensor.F8E4M3: 7,
	tensor.I16: 9, tensor.F16: 11, tensor.BF16: 12, tensor.I32: 13, tensor.F32: 15,
	tensor.F64: 16, tensor.I64: 17,
}

// SortReference orders tensors as the reference (Python/Rust) writer lays
// them out — by dtype, widest first in its enumeration order, then by name —
// so that writing them in this order reproduces its files byte for byte.
// It also keeps every tensor aligned to its element size.
func SortReference(ts []TensorInfo) {
	slices.SortStableFunc(ts, func(a, b TensorInfo) int {
		if ra, rb := referenceRank[a.DType], referenceRank[b.DType]; ra != rb {
			return rb - ra
		}
		return strings.Compare(a.Name, b.Name)
	})
}
