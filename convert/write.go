package convert

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/quant/mix"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// item is one tensor of the output: its GGUF name, ggml dims (innermost
// first) and the function that produces its values when it is written.
type item struct {
	name string
	dims []uint64
	typ  gguf.GGMLType
	load func() ([]float32, error)
}

// job is a planned conversion: the metadata and tensor descriptors of the
// output, in writing order, and how to produce each tensor.
type job struct {
	dir    string
	arch   string
	m      *weights.Map
	md     *gguf.Metadata
	infos  []gguf.TensorInfo
	byName map[string]item
}

// prepare plans the conversion of dir to a float GGUF (ft 0, 1 or 32). The
// caller closes j.m.
func prepare(dir string, ft gguf.FileType) (*job, error) {
	fam, cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	m, err := weights.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	j, err := plan(dir, fam, cfg, m, ft)
	if err != nil {
		m.Close()
		return nil, err
	}
	return j, nil
}

func plan(dir string, fam family, cfg *nn.Config, m *weights.Map, ft gguf.FileType) (*job, error) {
	if m.Format() != weights.Safetensors {
		return nil, fmt.Errorf("convert: %s holds %s weights, not safetensors: %w", dir, m.Format(), ErrUnsupported)
	}
	md, err := metadata(fam, cfg, baseName(dir), ft)
	if err != nil {
		return nil, err
	}
	if err := checkRoundTrip(fam, cfg, md); err != nil {
		return nil, err
	}
	items, err := tensors(fam, cfg, m)
	if err != nil {
		return nil, err
	}
	infos := make([]gguf.TensorInfo, len(items))
	byName := make(map[string]item, len(items))
	for i, it := range items {
		it.typ = gguf.TypeF32
		if len(it.dims) >= 2 && !strings.HasSuffix(it.name, "ffn_gate_inp.weight") {
			switch ft {
			case 1:
				it.typ = gguf.TypeF16
			case 32:
				it.typ = gguf.TypeBF16
			}
		}
		infos[i] = gguf.TensorInfo{Name: it.name, Type: it.typ, Dims: it.dims}
		byName[it.name] = it
	}
	mix.Sort(infos)
	return &job{dir: dir, arch: fam.arch, m: m, md: md, infos: infos, byName: byName}, nil
}

// write produces the planned file at out.
func (j *job) write(ctx context.Context, out string, log *slog.Logger) (*Report, error) {
	w, err := gguf.Create(out, j.md, j.infos)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	fail := func(err error) (*Report, error) {
		w.Close()
		os.Remove(out)
		return nil, err
	}
	for _, info := range j.infos {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		it := j.byName[info.Name]
		v, err := it.load()
		if err != nil {
			return fail(fmt.Errorf("convert: %s: %w", it.name, err))
		}
		if err := w.WriteTensor(it.name, encode(v, it.typ)); err != nil {
			return fail(fmt.Errorf("convert: %w", err))
		}
	}
	if err := w.Close(); err != nil {
		os.Remove(out)
		return nil, fmt.Errorf("convert: %w", err)
	}
	ft, _ := j.md.FileType()
	log.Debug("converted", "from", j.dir, "to", out, "arch", j.arch, "tensors", len(j.infos), "type", ft.String())
	return &Report{Arch: j.arch, Tensors: len(j.infos)}, nil
}

// encode stores v as typ (F32, F16 or BF16), little-endian.
func encode(v []float32, typ gguf.GGMLType) []byte {
	switch typ {
	case gguf.TypeF16, gguf.TypeBF16:
		b := make([]byte, 2*len(v))
		for i, x := range v {
			h := tensor.F32ToF16(x)
			if typ == gguf.TypeBF16 {
				h = tensor.F32ToBF16(x)
			}
			binary.LittleEndian.PutUint16(b[2*i:], h)
		}
		return b
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// dims turns an outermost-first shape into ggml's innermost-first dims.
func dims(shape []int64) []uint64 {
	d := make([]uint64, len(shape))
	for i, s := range shape {
		d[len(shape)-1-i] = uint64(s)
	}
	return d
}

// tensors lists the output tensors: every checkpoint tensor under its GGUF
// name with the family's layout changes, stacked experts, and rope_freqs.
func tensors(fam family, c *nn.Config, m *weights.Map) ([]item, error) {
	used := make(map[string]bool)
	var items []item
	if fam.arch == "qwen3moe" {
		exps, err := experts(c, m, used)
		if err != nil {
			return nil, err
		}
		items = append(items, exps...)
	}
	for _, n := range m.Names() {
		if used[n] {
			continue
		}
		if strings.HasSuffix(n, "rotary_emb.inv_freq") {
			continue // recomputed from the config
		}
		g, ok := fam.names.ToGGUF(n)
		if !ok {
			return nil, &weights.Error{Tensor: n, Err: fmt.Errorf("no GGUF name for it in family %s: %w", fam.arch, ErrUnsupported)}
		}
		t, err := m.Tensor(n)
		if err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		if t.DType != tensor.F32 && t.DType != tensor.F16 && t.DType != tensor.BF16 {
			return nil, &weights.Error{Path: t.File, Tensor: n, Err: fmt.Errorf("type %s is not a float type: %w", t.TypeName, ErrUnsupported)}
		}
		shape := t.Shape
		heads := 0
		if fam.permute {
			switch {
			case strings.HasSuffix(n, "self_attn.q_proj.weight"), strings.HasSuffix(n, "self_attn.q_proj.bias"):
				heads = c.Heads
			case strings.HasSuffix(n, "self_attn.k_proj.weight"), strings.HasSuffix(n, "self_attn.k_proj.bias"):
				heads = c.KVHeads
			}
			if heads > 0 && (len(shape) < 1 || shape[0]%int64(2*heads) != 0) {
				return nil, &weights.Error{Path: t.File, Tensor: n, Err: fmt.Errorf("%w: %d rows do not split into %d heads of pairs", nn.ErrShape, shape[0], heads)}
			}
		}
		plus := fam.normPlus && strings.HasSuffix(n, "norm.weight")
		items = append(items, item{name: g, dims: dims(shape), load: func() ([]float32, error) {
			v, err := t.Float32()
			if err != nil {
				return nil, err
			}
			if heads > 0 {
				cols := 1
				if len(shape) == 2 {
					cols = int(shape[1])
				}
				v = interleaveHeads(v, heads, int(shape[0]), cols)
			}
			if plus {
				for i := range v {
					v[i]++
				}
			}
			return v, nil
		}})
	}
	if r := c.RoPE[0]; r.Type == "llama3" {
		f, err := ropeFactors(r)
		if err != nil {
			return nil, fmt.Errorf("convert: llama3 rope: %w", err)
		}
		items = append(items, item{name: "rope_freqs.weight", dims: []uint64{uint64(len(f))}, load: func() ([]float32, error) { return f, nil }})
	}
	return items, nil
}

// interleaveHeads reorders the rows of a q or k projection [heads·hd, cols]
// so that within each head row i and row i+hd/2 (the pair Hugging Face's
// split-half rope rotates together) become rows 2i and 2i+1: the layout
// llama.cpp's Llama graph rotates.
func interleaveHeads(v []float32, heads, rows, cols int) []float32 {
	hd := rows / heads
	out := make([]float32, len(v))
	for h := range heads {
		for i := range hd / 2 {
			src0 := (h*hd + i) * cols
			src1 := (h*hd + hd/2 + i) * cols
			dst := (h*hd + 2*i) * cols
			copy(out[dst:dst+cols], v[src0:src0+cols])
			copy(out[dst+cols:dst+2*cols], v[src1:src1+cols])
		}
	}
	return out
}

// experts stacks each MoE layer's experts into blk.N.ffn_{gate,up,down}_exps
// ([E, rows, cols] outermost first), from per-expert tensors or from
// transformers 5's fused gate_up_proj / down_proj.
func experts(c *nn.Config, m *weights.Map, used map[string]bool) ([]item, error) {
	var items []item
	E, F, D := c.Experts, c.ExpertFFN, c.Hidden
	for l := range c.Layers {
		pre := fmt.Sprintf("model.layers.%d.mlp.experts.", l)
		blk := fmt.Sprintf("blk.%d.", l)
		if _, ok := m.Lookup(pre + "gate_up_proj"); ok {
			gu, err := m.Tensor(pre + "gate_up_proj")
			if err != nil {
				return nil, fmt.Errorf("convert: %w", err)
			}
			dn, err := m.Tensor(pre + "down_proj")
			if err != nil {
				return nil, fmt.Errorf("convert: %w", err)
			}
			if !shapeIs(gu.Shape, E, 2*F, D) {
				return nil, &weights.Error{Path: gu.File, Tensor: gu.Name, Err: fmt.Errorf("%w: shape %v, want [%d %d %d]", nn.ErrShape, gu.Shape, E, 2*F, D)}
			}
			if !shapeIs(dn.Shape, E, D, F) {
				return nil, &weights.Error{Path: dn.File, Tensor: dn.Name, Err: fmt.Errorf("%w: shape %v, want [%d %d %d]", nn.ErrShape, dn.Shape, E, D, F)}
			}
			used[gu.Name], used[dn.Name] = true, true
			half := func(skip int) func() ([]float32, error) {
				return func() ([]float32, error) {
					v, err := gu.Float32()
					if err != nil {
						return nil, err
					}
					out := make([]float32, 0, E*F*D)
					for e := range E {
						base := (e*2*F + skip) * D
						out = append(out, v[base:base+F*D]...)
					}
					return out, nil
				}
			}
			items = append(items,
				item{name: blk + "ffn_gate_exps.weight", dims: []uint64{uint64(D), uint64(F), uint64(E)}, load: half(0)},
				item{name: blk + "ffn_up_exps.weight", dims: []uint64{uint64(D), uint64(F), uint64(E)}, load: half(F)},
				item{name: blk + "ffn_down_exps.weight", dims: []uint64{uint64(F), uint64(D), uint64(E)}, load: dn.Float32})
			continue
		}
		if _, ok := m.Lookup(pre + "0.gate_proj.weight"); !ok {
			return nil, &weights.Error{Tensor: pre + "0.gate_proj.weight", Err: fmt.Errorf("layer %d has no experts: %w", l, nn.ErrMissingTensor)}
		}
		for _, p := range []struct {
			hf, gguf   string
			rows, cols int
		}{{"gate_proj", "ffn_gate_exps", F, D}, {"up_proj", "ffn_up_exps", F, D}, {"down_proj", "ffn_down_exps", D, F}} {
			ts := make([]weights.Tensor, E)
			for e := range E {
				n := fmt.Sprintf("%s%d.%s.weight", pre, e, p.hf)
				t, err := m.Tensor(n)
				if err != nil {
					return nil, fmt.Errorf("convert: %w", err)
				}
				if !shapeIs(t.Shape, p.rows, p.cols) {
					return nil, &weights.Error{Path: t.File, Tensor: n, Err: fmt.Errorf("%w: shape %v, want [%d %d]", nn.ErrShape, t.Shape, p.rows, p.cols)}
				}
				ts[e] = t
				used[n] = true
			}
			rows, cols := p.rows, p.cols
			items = append(items, item{name: blk + p.gguf + ".weight", dims: []uint64{uint64(cols), uint64(rows), uint64(E)}, load: func() ([]float32, error) {
				out := make([]float32, 0, E*rows*cols)
				for _, t := range ts {
					v, err := t.Float32()
					if err != nil {
						return nil, fmt.Errorf("%s: %w", t.Name, err)
					}
					out = append(out, v...)
				}
				return out, nil
			}})
		}
	}
	return items, nil
}

func shapeIs(s []int64, want ...int) bool {
	if len(s) != len(want) {
		return false
	}
	for i := range s {
		if s[i] != int64(want[i]) {
			return false
		}
	}
	return true
}
