package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/rlx-go/rlx/format/internal/mmap"
	"github.com/rlx-go/rlx/tensor"
)

// TensorInfo describes one tensor of a safetensors file.
type TensorInfo struct {
	Name  string
	DType tensor.DType
	Shape []int64 // outermost first
	// Begin and End delimit the tensor's bytes, relative to the start of
	// the data section (File.DataOffset).
	Begin, End int64
}

// Elements is the number of elements (1 for a 0-D tensor).
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is an open safetensors file. The slices Data returns are valid
// until Close; the descriptors and metadata outlive it.
type File struct {
	Path string
	// Metadata holds the "__metadata__" strings (nil when absent);
	// MetadataKeys lists its keys in header order.
	Metadata     map[string]string
	MetadataKeys []string
	Tensors      []TensorInfo // in header order
	DataOffset   int64        // 8 + header length
	Size         int64

	data  []byte
	mm    *mmap.Mapping
	index map[string]int
}

// Open maps and validates the safetensors file at path.
func Open(path string) (*File, error) {
	m, err := mmap.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	f, err := Parse(path, m.Bytes())
	if err != nil {
		m.Close()
		return nil, err
	}
	f.mm = m
	return f, nil
}

// Parse validates a whole safetensors file held in data; name is used in
// errors. The File keeps data for zero-copy access.
func Parse(name string, data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, &Error{File: name, Field: "header length", Err: fmt.Errorf("%w: %d bytes, need at least 8", ErrTruncated, len(data))}
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, errorf(name, "header length", "%d bytes exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, &Error{File: name, Field: "header length", Err: fmt.Errorf("%w: header of %d bytes, only %d follow", ErrTruncated, n, len(data)-8)}
	}
	f, err := parseHeader(name, data[8:8+n], int64(len(data))-8-int64(n))
	if err != nil {
		return nil, err
	}
	f.Path = name
	f.DataOffset = 8 + int64(n)
	f.Size = int64(len(data))
	f.data = data
	return f, nil
}

// ReadHeader reads and validates only the header of a safetensors stream
// whose total size is size, for callers that do not want to map the file.
func ReadHeader(name string, r io.Reader, size int64) (*File, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, &Error{File: name, Field: "header length", Err: fmt.Errorf("%w: %v", ErrTruncated, err)}
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize || (size >= 8 && n > uint64(size-8)) {
		return nil, errorf(name, "header length", "%d bytes does not fit (limit %d, file %d bytes)", n, MaxHeaderSize, size)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, &Error{File: name, Field: "header", Err: fmt.Errorf("%w: %v", ErrTruncated, err)}
	}
	f, err := parseHeader(name, hdr, size-8-int64(n))
	if err != nil {
		return nil, err
	}
	f.Path, f.DataOffset, f.Size = name, 8+int64(n), size
	return f, nil
}

// Close releases the mapping.
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

// Data returns t's bytes without copying.
func (f *File) Data(t TensorInfo) ([]byte, error) {
	if f.data == nil && t.End > t.Begin {
		return nil, errorf(f.Path, "tensor "+strconv.Quote(t.Name), "file is closed or was opened with ReadHeader")
	}
	dataLen := int64(len(f.data)) - f.DataOffset
	if t.Begin < 0 || t.Begin > t.End || t.End > dataLen {
		return nil, errorf(f.Path, "tensor "+strconv.Quote(t.Name), "byte range [%d, %d) lies outside the data section", t.Begin, t.End)
	}
	s, e := f.DataOffset+t.Begin, f.DataOffset+t.End
	return f.data[s:e:e], nil
}

type rawEntry struct {
	DType       *string `json:"dtype"`
	Shape       *shape  `json:"shape"`
	DataOffsets *shape  `json:"data_offsets"`
}

// shape decodes a JSON array of non-negative integers, refusing more than
// maxRank elements before allocating.
type shape []int64

// UnmarshalJSON decodes the array after counting its elements.
func (s *shape) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return errors.New("not an array")
	}
	if c := bytes.Count(b, []byte{','}); c >= maxRank {
		return fmt.Errorf("%d elements (at most %d)", c+1, maxRank)
	}
	var v []json.Number
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	out := make(shape, len(v))
	for i, n := range v {
		x, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || x < 0 {
			return fmt.Errorf("element %d is %s, not a non-negative integer", i, n)
		}
		out[i] = x
	}
	*s = out
	return nil
}

func parseHeader(name string, hdr []byte, dataLen int64) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	bad := func(field string, err error) error { return &Error{File: name, Field: field, Err: err} }
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, bad("header", fmt.Errorf("not a JSON object (%v)", err))
	}
	f := &File{index: map[string]int{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("header", err)
		}
		key, _ := tok.(string)
		field := "tensor " + strconv.Quote(key)
		if key == MetadataKey {
			field = MetadataKey
			if f.Metadata != nil {
				return nil, bad(field, errors.New("appears twice"))
			}
			if err := f.readMetadata(dec); err != nil {
				return nil, bad(field, err)
			}
			continue
		}
		if _, dup := f.index[key]; dup {
			return nil, bad(field, errors.New("duplicate tensor name"))
		}
		var e rawEntry
		if err := dec.Decode(&e); err != nil {
			return nil, bad(field, err)
		}
		t, err := entry(key, e, dataLen)
		if err != nil {
			return nil, bad(field, err)
		}
		f.index[key] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad("header", err)
	}
	// Only whitespace (the writer's padding) may follow the object.
	if rest := hdr[dec.InputOffset():]; len(bytes.TrimSpace(rest)) > 0 {
		return nil, bad("header", errors.New("trailing bytes after the JSON object"))
	}
	if a, b, ok := overlap(f.Tensors); ok {
		return nil, bad("tensor "+strconv.Quote(b), fmt.Errorf("byte range overlaps tensor %q", a))
	}
	return f, nil
}

func (f *File) readMetadata(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // "__metadata__": null
		f.Metadata = map[string]string{}
		return nil
	}
	if tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	f.Metadata = map[string]string{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return err
		}
		v, ok := vt.(string)
		if !ok {
			return fmt.Errorf("value of %q is not a string", k)
		}
		if _, dup := f.Metadata[k]; dup {
			return fmt.Errorf("duplicate key %q", k)
		}
		f.Metadata[k] = v
		f.MetadataKeys = append(f.MetadataKeys, k)
	}
	_, err = dec.Token()
	return err
}

func entry(name string, e rawEntry, dataLen int64) (TensorInfo, error) {
	if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
		return TensorInfo{}, errors.New(`needs "dtype", "shape" and "data_offsets"`)
	}
	d, ok := ParseDType(*e.DType)
	if !ok {
		return TensorInfo{}, fmt.Errorf("unsupported dtype %q", *e.DType)
	}
	if len(*e.DataOffsets) != 2 {
		return TensorInfo{}, fmt.Errorf("data_offsets has %d elements, want 2", len(*e.DataOffsets))
	}
	begin, end := (*e.DataOffsets)[0], (*e.DataOffsets)[1]
	if begin > end {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] are reversed", begin, end)
	}
	if end > dataLen {
		return TensorInfo{}, fmt.Errorf("%w: data_offsets end %d is past the %d-byte data section", ErrTruncated, end, dataLen)
	}
	elems := uint64(1)
	for _, x := range *e.Shape {
		hi, lo := bits.Mul64(elems, uint64(x))
		if hi != 0 || lo > math.MaxInt64 {
			return TensorInfo{}, fmt.Errorf("shape %v overflows", []int64(*e.Shape))
		}
		elems = lo
	}
	hi, size := bits.Mul64(elems, uint64(d.BlockBytes()))
	if hi != 0 || size != uint64(end-begin) {
		return TensorInfo{}, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d", []int64(*e.Shape), d, size, begin, end, end-begin)
	}
	return TensorInfo{Name: name, DType: d, Shape: []int64(*e.Shape), Begin: begin, End: end}, nil
}

// overlap finds two tensors whose bytes overlap.
func overlap(ts []TensorInfo) (a, b string, found bool) {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := ts[a].Begin - ts[b].Begin; c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
		return 0
	})
	var prev *TensorInfo
	for _, i := range order {
		t := &ts[i]
		if t.End == t.Begin {
			continue
		}
		if prev != nil && prev.End > t.Begin {
			return prev.Name, t.Name, true
		}
		prev = t
	}
	return "", "", false
}
