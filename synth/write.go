package synth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/quant/mix"
	"github.com/rlx-go/rlx/tensor"
)

// Options tune Write.
type Options struct {
	// Type is the file's type: F32, F16, BF16 or one of llama-quantize's
	// mixes (mix.FileTypes: Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K, …).
	Type gguf.FileType
	// Seed picks the weights; the same seed writes the same file.
	Seed uint64
	// Threads generating and quantizing (0: GOMAXPROCS).
	Threads int
	// Progress, when set, is called after each chunk with the tensor
	// bytes written so far and the total.
	Progress func(done, total int64)
}

// Kind of values a tensor is filled with.
type fill uint8

const (
	fillWeight fill = iota // N(0, 0.02²)
	fillNorm               // 1 + N(0, 0.01²)
	fillRope               // Llama 3 rope frequency factors
)

type tensorSpec struct {
	name string
	dims []int // ggml order: dims[0] is the row length
	fill fill
}

// tensors lists the model's tensors in the order llama.cpp's converter
// writes them.
func (s Spec) tensors() []tensorSpec {
	H, D, F, V := s.Hidden, s.HeadDim, s.FFN, s.Vocab
	q, kv := s.Heads*D, s.KVHeads*D
	ts := []tensorSpec{{"token_embd.weight", []int{H, V}, fillWeight}}
	if !s.Tied {
		ts = append(ts, tensorSpec{"output.weight", []int{H, V}, fillWeight})
	}
	ts = append(ts, tensorSpec{"output_norm.weight", []int{H}, fillNorm})
	if s.Llama3Rope != nil {
		ts = append(ts, tensorSpec{"rope_freqs.weight", []int{D / 2}, fillRope})
	}
	for i := range s.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		add := func(name string, f fill, dims ...int) {
			ts = append(ts, tensorSpec{p + name, dims, f})
		}
		add("attn_norm.weight", fillNorm, H)
		add("attn_q.weight", fillWeight, H, q)
		add("attn_k.weight", fillWeight, H, kv)
		add("attn_v.weight", fillWeight, H, kv)
		add("attn_output.weight", fillWeight, q, H)
		if s.QKVBias {
			add("attn_q.bias", fillWeight, q)
			add("attn_k.bias", fillWeight, kv)
			add("attn_v.bias", fillWeight, kv)
		}
		if s.QKNorm {
			add("attn_q_norm.weight", fillNorm, D)
			add("attn_k_norm.weight", fillNorm, D)
		}
		if s.PostNorms {
			add("post_attention_norm.weight", fillNorm, H)
		}
		add("ffn_norm.weight", fillNorm, H)
		if s.Experts > 0 {
			E, Fe := s.Experts, s.ExpertFFN
			add("ffn_gate_inp.weight", fillWeight, H, E)
			add("ffn_gate_exps.weight", fillWeight, H, Fe, E)
			add("ffn_up_exps.weight", fillWeight, H, Fe, E)
			add("ffn_down_exps.weight", fillWeight, Fe, H, E)
		} else {
			add("ffn_gate.weight", fillWeight, H, F)
			add("ffn_up.weight", fillWeight, H, F)
			add("ffn_down.weight", fillWeight, F, H)
		}
		if s.PostNorms {
			add("post_ffw_norm.weight", fillNorm, H)
		}
	}
	return ts
}

// Metadata returns the GGUF key/value section of a file of type ft.
func (s Spec) Metadata(ft gguf.FileType) (*gguf.Metadata, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	md := &gguf.Metadata{}
	a := s.Arch + "."
	kv := []struct {
		k string
		v any
	}{
		{gguf.KeyArchitecture, s.Arch},
		{"general.name", s.Name},
		{gguf.KeyFileType, uint32(ft)},
		{a + "context_length", uint32(s.Context)},
		{a + "embedding_length", uint32(s.Hidden)},
		{a + "block_count", uint32(s.Layers)},
		{a + "feed_forward_length", uint32(s.FFN)},
		{a + "attention.head_count", uint32(s.Heads)},
		{a + "attention.head_count_kv", uint32(s.KVHeads)},
		{a + "attention.key_length", uint32(s.HeadDim)},
		{a + "attention.value_length", uint32(s.HeadDim)},
		{a + "attention.layer_norm_rms_epsilon", float32(s.RMSEps)},
		{a + "rope.dimension_count", uint32(s.HeadDim)},
		{a + "rope.freq_base", float32(s.RopeTheta)},
		{a + "vocab_size", uint32(s.Vocab)},
	}
	if s.SlidingWindow > 0 {
		kv = append(kv, struct {
			k string
			v any
		}{a + "attention.sliding_window", uint32(s.SlidingWindow)})
	}
	if s.AttnSoftcap > 0 {
		kv = append(kv, struct {
			k string
			v any
		}{a + "attn_logit_softcapping", float32(s.AttnSoftcap)})
	}
	if s.FinalSoftcap > 0 {
		kv = append(kv, struct {
			k string
			v any
		}{a + "final_logit_softcapping", float32(s.FinalSoftcap)})
	}
	if s.Experts > 0 {
		kv = append(kv, []struct {
			k string
			v any
		}{
			{a + "expert_count", uint32(s.Experts)},
			{a + "expert_used_count", uint32(s.ExpertsUsed)},
			{a + "expert_feed_forward_length", uint32(s.ExpertFFN)},
		}...)
	}
	for _, e := range kv {
		if err := md.Set(e.k, e.v); err != nil {
			return nil, fmt.Errorf("synth: %s: %w", e.k, err)
		}
	}
	if err := setTokenizer(md, s); err != nil {
		return nil, err
	}
	return md, nil
}

// plan returns the tensor descriptors with the types a file of type ft
// gives them.
func (s Spec) plan(md *gguf.Metadata, ft gguf.FileType) ([]gguf.TensorInfo, []tensorSpec, error) {
	ts := s.tensors()
	infos := make([]gguf.TensorInfo, len(ts))
	for i, t := range ts {
		dims := make([]uint64, len(t.dims))
		for j, d := range t.dims {
			dims[j] = uint64(d)
		}
		infos[i] = gguf.TensorInfo{Name: t.name, Type: gguf.TypeF32, Dims: dims}
	}
	var float gguf.GGMLType
	switch ft.String() {
	case "F32":
		return infos, ts, nil
	case "F16":
		float = gguf.TypeF16
	case "BF16":
		float = gguf.TypeBF16
	default:
		types, err := mix.Plan(md, infos, ft)
		if err != nil {
			return nil, nil, fmt.Errorf("synth: %w", err)
		}
		for i := range infos {
			infos[i].Type = types[i]
		}
		return infos, ts, nil
	}
	// As llama.cpp's converter: matrices in the float type, vectors
	// (norms, biases) and the MoE router in F32.
	for i, t := range ts {
		if len(t.dims) >= 2 && strings.HasSuffix(t.name, ".weight") && !strings.Contains(t.name, "ffn_gate_inp") {
			infos[i].Type = float
		}
	}
	return infos, ts, nil
}

// FileType parses a file type name: F32, F16, BF16 or a quantization mix
// that package mix can make.
func FileType(name string) (gguf.FileType, error) {
	ft, ok := gguf.ParseFileType(name)
	if ok {
		switch ft.String() {
		case "F32", "F16", "BF16":
			return ft, nil
		}
		for _, m := range mix.FileTypes {
			if m == ft {
				return ft, nil
			}
		}
	}
	names := []string{"F32", "F16", "BF16"}
	for _, m := range mix.FileTypes {
		names = append(names, m.String())
	}
	return 0, fmt.Errorf("synth: unsupported type %q (have %s)", name, strings.Join(names, ", "))
}

// Write writes a random-weight model of shape s to path (through a
// temporary file beside it, renamed at the end).
func Write(ctx context.Context, path string, s Spec, o Options) (err error) {
	md, err := s.Metadata(o.Type)
	if err != nil {
		return err
	}
	infos, ts, err := s.plan(md, o.Type)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	w, err := gguf.Create(tmp, md, infos)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	defer func() {
		if err != nil {
			w.Close()
			os.Remove(tmp)
		}
	}()
	infos = w.Tensors()
	var total, done int64
	for _, t := range infos {
		total += int64(t.Size)
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	for i, t := range ts {
		g := &generator{ctx: ctx, spec: s, t: t, info: infos[i], seed: o.Seed, index: uint64(i), threads: threads}
		g.progress = func(n int64) {
			done += n
			if o.Progress != nil {
				o.Progress(done, total)
			}
		}
		if err := w.WriteTensorFrom(t.name, g); err != nil {
			if g.err != nil {
				err = g.err
			}
			return fmt.Errorf("synth: %s: %w", t.name, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// generator is an io.Reader of one tensor's bytes, made a chunk of rows at
// a time. Every row has its own random stream (seed, tensor index, row),
// so the bytes do not depend on the chunking or the thread count.
type generator struct {
	ctx      context.Context
	spec     Spec
	t        tensorSpec
	info     gguf.TensorInfo
	seed     uint64
	index    uint64
	threads  int
	progress func(int64)

	row  int // next row to make
	buf  []byte
	off  int
	f32  []float32
	err  error
	rows int
}

func (g *generator) Read(p []byte) (int, error) {
	if g.off == len(g.buf) {
		if err := g.next(); err != nil {
			g.err = err
			return 0, err
		}
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

// next makes the next chunk of rows (about 4 Mi elements).
func (g *generator) next() error {
	if err := g.ctx.Err(); err != nil {
		return err
	}
	cols := g.t.dims[0]
	if g.rows == 0 {
		g.rows = 1
		for _, d := range g.t.dims[1:] {
			g.rows *= d
		}
	}
	if g.row >= g.rows {
		return io.EOF
	}
	chunk := max(1, min(g.rows-g.row, (4<<20)/cols))
	dt := g.info.DType()
	if dt == tensor.Invalid {
		return fmt.Errorf("type %v has no rlx element type", g.info.Type)
	}
	rowBytes, err := dt.RowBytes(int64(cols))
	if err != nil {
		return err
	}
	need := chunk * cols
	if cap(g.f32) < need {
		g.f32 = make([]float32, need)
	}
	if cap(g.buf) < chunk*int(rowBytes) {
		g.buf = make([]byte, chunk*int(rowBytes))
	}
	f32, buf := g.f32[:need], g.buf[:chunk*int(rowBytes)]
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	per := (chunk + g.threads - 1) / g.threads
	for lo := 0; lo < chunk; lo += per {
		hi := min(lo+per, chunk)
		wg.Go(func() {
			for r := lo; r < hi; r++ {
				g.fillRow(f32[r*cols:(r+1)*cols], g.row+r)
			}
			if err := encode(dt, buf[lo*int(rowBytes):hi*int(rowBytes)], f32[lo*cols:hi*cols]); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	g.row += chunk
	g.buf, g.off = buf, 0
	g.progress(int64(len(buf)))
	return nil
}

func (g *generator) fillRow(dst []float32, row int) {
	switch g.t.fill {
	case fillRope:
		copy(dst, llama3Factors(g.spec))
		return
	}
	r := rand.New(rand.NewPCG(g.seed, g.index<<32|uint64(row)))
	switch g.t.fill {
	case fillNorm:
		for i := range dst {
			dst[i] = float32(1 + 0.01*r.NormFloat64())
		}
	default:
		for i := range dst {
			dst[i] = float32(0.02 * r.NormFloat64())
		}
	}
}

// encode stores src in dst as type dt.
func encode(dt tensor.DType, dst []byte, src []float32) error {
	switch dt {
	case tensor.F32:
		for i, v := range src {
			u := math.Float32bits(v)
			dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		}
	case tensor.F16, tensor.BF16:
		for i, v := range src {
			var u uint16
			if dt == tensor.F16 {
				u = tensor.F32ToF16(v)
			} else {
				u = tensor.F32ToBF16(v)
			}
			dst[2*i], dst[2*i+1] = byte(u), byte(u>>8)
		}
	default:
		return quant.Quantize(dt, dst, src)
	}
	return nil
}

// llama3Factors are the divisors Llama 3's rope scaling applies to each
// rotary frequency: 1 for short wavelengths, Factor for long ones, and a
// smooth blend between.
func llama3Factors(s Spec) []float32 {
	sc := s.Llama3Rope
	half := s.HeadDim / 2
	out := make([]float32, half)
	lowWL := float64(sc.OriginalContext) / sc.LowFreqFactor
	highWL := float64(sc.OriginalContext) / sc.HighFreqFactor
	for i := range half {
		freq := 1 / math.Pow(s.RopeTheta, float64(2*i)/float64(s.HeadDim))
		wl := 2 * math.Pi / freq
		switch {
		case wl < highWL:
			out[i] = 1
		case wl > lowWL:
			out[i] = float32(sc.Factor)
		default:
			smooth := (float64(sc.OriginalContext)/wl - sc.LowFreqFactor) / (sc.HighFreqFactor - sc.LowFreqFactor)
			out[i] = float32(1 / ((1-smooth)/sc.Factor + smooth))
		}
	}
	return out
}
