package mix

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/quant"
)

// Options tune QuantizeFile. The zero value is llama-quantize's default.
type Options struct {
	// Pure gives every quantizable tensor the mix's default type (like
	// llama-quantize --pure).
	Pure bool
	// Pool runs the row quantization; nil means parallel.Default().
	Pool *parallel.Pool
	// Log receives one line per tensor; nil means slog.Default().
	Log *slog.Logger
}

// Report summarizes a QuantizeFile run.
type Report struct {
	Tensors    int
	Quantized  int                   // tensors whose type changed
	Types      map[gguf.GGMLType]int // output type → tensor count
	BytesIn    int64                 // tensor bytes read
	BytesOut   int64                 // tensor bytes written
	OutputPath string
}

// Sort orders tensors as llama-quantize writes them: by layer (blk.N; other
// tensors first), then by name.
func Sort(tensors []gguf.TensorInfo) {
	slices.SortStableFunc(tensors, func(a, b gguf.TensorInfo) int {
		if c := cmp.Compare(layerNo(a.Name), layerNo(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// layerNo reads N from a "blk.N." prefix (as C's sscanf would: optional
// sign, then digits), or −1.
func layerNo(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	end := 0
	if end < len(rest) && (rest[0] == '-' || rest[0] == '+') {
		end++
	}
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == len(rest) || rest[end] != '.' {
		return -1
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return -1
	}
	return n
}

// QuantizeFile reads the GGUF file in (tensors F32, F16 or BF16; tensors
// that stay in their type may be anything) and writes out quantized with
// file type ft.
func QuantizeFile(ctx context.Context, in, out string, ft gguf.FileType, opts Options) (*Report, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	pool := opts.Pool
	if pool == nil {
		pool = parallel.Default()
	}
	f, err := gguf.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if n, ok := f.Metadata.Int(gguf.KeySplitCount); ok && n > 1 {
		return nil, fmt.Errorf("mix: %s is part of a split GGUF (%d parts); merge it first (llama-gguf-split --merge)", in, n)
	}
	tensors := slices.Clone(f.Tensors)
	Sort(tensors)
	var types []gguf.GGMLType
	if opts.Pure {
		types, err = planPure(tensors, ft)
	} else {
		types, err = Plan(f.Metadata, tensors, ft)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, in)
	}

	md := f.Metadata.Clone()
	for _, k := range []string{gguf.KeySplitNo, gguf.KeySplitCount, gguf.KeySplitTensors} {
		md.Delete(k)
	}
	// llama.cpp re-sets these two, which moves them to the end.
	md.Delete("general.quantization_version")
	md.Delete(gguf.KeyFileType)
	if err := md.Set("general.quantization_version", uint32(2)); err != nil {
		return nil, err
	}
	if err := md.Set(gguf.KeyFileType, uint32(ft)); err != nil {
		return nil, err
	}

	infos := make([]gguf.TensorInfo, len(tensors))
	for i, t := range tensors {
		infos[i] = gguf.TensorInfo{Name: t.Name, Type: types[i], Dims: t.Dims}
	}
	w, err := gguf.Create(out, md, infos)
	if err != nil {
		return nil, fmt.Errorf("mix: %s: %w", out, err)
	}
	rep := &Report{Tensors: len(tensors), Types: map[gguf.GGMLType]int{}, OutputPath: out}
	fail := func(err error) (*Report, error) {
		w.Close()
		os.Remove(out)
		return nil, err
	}
	for i, t := range tensors {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		src, err := f.Data(t)
		if err != nil {
			return fail(err)
		}
		data := src
		if types[i] != t.Type {
			data, err = convert(pool, t, types[i], src)
			if err != nil {
				return fail(fmt.Errorf("mix: %s: %w", in, err))
			}
			rep.Quantized++
		}
		if err := w.WriteTensor(t.Name, data); err != nil {
			return fail(err)
		}
		rep.Types[types[i]]++
		rep.BytesIn += int64(len(src))
		rep.BytesOut += int64(len(data))
		log.Debug("quantize", "tensor", t.Name, "from", t.Type, "to", types[i], "bytes", len(data))
	}
	if err := w.Close(); err != nil {
		os.Remove(out)
		return nil, err
	}
	return rep, nil
}

func planPure(tensors []gguf.TensorInfo, ft gguf.FileType) ([]gguf.GGMLType, error) {
	def, ok := defaultType(ft)
	if !ok {
		return nil, fmt.Errorf("mix: file type %v is not supported (have %v)", ft, FileTypes)
	}
	out := make([]gguf.GGMLType, len(tensors))
	for i, t := range tensors {
		out[i] = t.Type
		if quantizable(t) {
			var err error
			if out[i], err = fallback(t, def); err != nil {
				return nil, fmt.Errorf("mix: %w", err)
			}
		}
	}
	return out, nil
}

// convert turns tensor t's bytes into type to, through float32.
func convert(pool *parallel.Pool, t gguf.TensorInfo, to gguf.GGMLType, src []byte) ([]byte, error) {
	n := t.Elements()
	if n > math.MaxInt/4 || uint64(len(src)) != t.Size {
		return nil, fmt.Errorf("tensor %q: size %d does not match its %d elements", t.Name, len(src), n)
	}
	x := make([]float32, n)
	switch t.Type {
	case gguf.TypeF32:
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case gguf.TypeF16, gguf.TypeBF16:
		from, _ := t.Type.DType()
		if err := quant.Dequantize(from, x, src); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
	default:
		return nil, fmt.Errorf("tensor %q: requantizing from %s is not supported (start from F32, F16 or BF16)", t.Name, t.Type)
	}
	dt, ok := to.DType()
	if !ok || !quant.CanQuantize(dt) {
		return nil, fmt.Errorf("tensor %q: cannot quantize to %s", t.Name, to)
	}
	size, err := dt.RowBytes(int64(n))
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	out := make([]byte, size)
	// Rows are independent, so chunks of whole rows quantize in parallel.
	cols := int(t.Dims[0])
	rows := int(n) / max(cols, 1)
	rowBytes := int(size) / max(rows, 1)
	var mu sync.Mutex
	var qerr error
	pool.For(rows, max(1, 16384/max(cols, 1)), func(lo, hi int) {
		if err := quant.Quantize(dt, out[lo*rowBytes:hi*rowBytes], x[lo*cols:hi*cols]); err != nil {
			mu.Lock()
			qerr = err
			mu.Unlock()
		}
	})
	if qerr != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, qerr)
	}
	return out, nil
}
