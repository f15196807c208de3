// Package mix quantizes whole GGUF files the way llama.cpp's llama-quantize
// does: it picks a type for every tensor from the file type's mix (Q4_K_M
// gives attn_v and ffn_down of some layers Q6_K, the output matrix Q6_K, …),
// quantizes with package quant's reference quantizers, and writes a GGUF
// with the same metadata, tensor order and general.file_type. Without an
// importance matrix the result is byte-identical to llama-quantize's.
package mix

import (
	"fmt"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
)

// FileTypes lists the mixes Plan and QuantizeFile support.
var FileTypes = []gguf.FileType{2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}

// defaultType is the tensor type a mix uses unless a rule says otherwise.
func defaultType(ft gguf.FileType) (gguf.GGMLType, bool) {
	switch ft {
	case 2:
		return gguf.TypeQ4_0, true
	case 3:
		return gguf.TypeQ4_1, true
	case 7:
		return gguf.TypeQ8_0, true
	case 8:
		return gguf.TypeQ5_0, true
	case 9:
		return gguf.TypeQ5_1, true
	case 10:
		return gguf.TypeQ2_K, true
	case 11, 12, 13:
		return gguf.TypeQ3_K, true
	case 14, 15:
		return gguf.TypeQ4_K, true
	case 16, 17:
		return gguf.TypeQ5_K, true
	case 18:
		return gguf.TypeQ6_K, true
	}
	return 0, false
}

// Named file types, for readability of the rules below.
const (
	ftQ2K  gguf.FileType = 10
	ftQ3KS gguf.FileType = 11
	ftQ3KM gguf.FileType = 12
	ftQ3KL gguf.FileType = 13
	ftQ4KS gguf.FileType = 14
	ftQ4KM gguf.FileType = 15
	ftQ5KM gguf.FileType = 17
)

type category int

const (
	catOther category = iota
	catOutput
	catTokenEmbd
	catAttnQKV
	catAttnKVB
	catAttnV
	catAttnK
	catAttnQ
	catAttnOutput
	catFFNUp
	catFFNGate
	catFFNDown
)

// categorize sorts a tensor name into llama.cpp's broad quantization
// categories (first match wins, in this order).
func categorize(name string) category {
	switch {
	case name == "output.weight":
		return catOutput
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		return catTokenEmbd
	case strings.Contains(name, "attn_qkv.weight"):
		return catAttnQKV
	case strings.Contains(name, "attn_kv_b.weight"):
		return catAttnKVB
	case strings.Contains(name, "attn_v.weight"):
		return catAttnV
	case strings.Contains(name, "attn_k.weight"):
		return catAttnK
	case strings.Contains(name, "attn_q.weight"):
		return catAttnQ
	case strings.Contains(name, "attn_output.weight"):
		return catAttnOutput
	case strings.Contains(name, "ffn_up"):
		return catFFNUp
	case strings.Contains(name, "ffn_gate"):
		return catFFNGate
	case strings.Contains(name, "ffn_down"):
		return catFFNDown
	}
	return catOther
}

func isAttnV(c category) bool { return c == catAttnV || c == catAttnQKV || c == catAttnKVB }

// neverQuantized lists name fragments llama-quantize leaves in their
// original type (small or precision-critical tensors of various families).
var neverQuantized = []string{
	"_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
	"per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
	"indexer.k_proj.weight", "indexer.q_proj.weight",
	"time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
	"time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
	"time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
	"time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
	"attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
	".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
}

// quantizable reports whether llama-quantize would quantize t at all.
func quantizable(t gguf.TensorInfo) bool {
	if nDims(t) < 2 || !strings.HasSuffix(t.Name, "weight") {
		return false
	}
	if t.Name == "position_embd.weight" || t.Name == "token_types.weight" {
		return false
	}
	for _, s := range neverQuantized {
		if strings.Contains(t.Name, s) {
			return false
		}
	}
	return true
}

// nDims is ggml's dimension count: trailing 1s do not count.
func nDims(t gguf.TensorInfo) int {
	n := len(t.Dims)
	for n > 1 && t.Dims[n-1] == 1 {
		n--
	}
	return n
}

// model holds the hyper-parameters the rules look at.
type model struct {
	arch         string
	nLayer       int
	nHead, nKV   int
	nExpert      int
	is70B        bool
	tied         bool // no output.weight: token_embd doubles as the output
	nAttnV       int
	iAttnV       int
	iDown, iGate int
	iUp          int
}

func (m *model) gqa() int {
	if m.nKV <= 0 {
		return 1
	}
	return m.nHead / m.nKV
}

// useMoreBits is llama.cpp's choice of layers that get extra precision:
// the first and last eighth, and every third layer in between.
func useMoreBits(i, n int) bool { return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2 }

func newModel(md *gguf.Metadata, tensors []gguf.TensorInfo) (*model, error) {
	m := &model{arch: md.Arch(), tied: true}
	if m.arch == "" {
		return nil, fmt.Errorf("metadata lacks %s", gguf.KeyArchitecture)
	}
	var ok bool
	if m.nLayer, ok = md.Int(md.ArchKey("block_count")); !ok {
		return nil, fmt.Errorf("metadata lacks %s", md.ArchKey("block_count"))
	}
	m.nHead = firstInt(md, md.ArchKey("attention.head_count"))
	m.nKV = m.nHead
	if md.Has(md.ArchKey("attention.head_count_kv")) {
		m.nKV = firstInt(md, md.ArchKey("attention.head_count_kv"))
	}
	m.nExpert = firstInt(md, md.ArchKey("expert_count"))
	// llama.cpp calls an 80-layer llama with grouped KV heads "70B".
	m.is70B = m.arch == "llama" && m.nLayer == 80 && m.nHead != m.nKV
	for _, t := range tensors {
		c := categorize(t.Name)
		if isAttnV(c) {
			m.nAttnV++
		}
		if c == catOutput {
			m.tied = false
		}
	}
	return m, nil
}

// firstInt reads a scalar or the first element of a per-layer array.
func firstInt(md *gguf.Metadata, key string) int {
	if v, ok := md.Int(key); ok {
		return v
	}
	if vs, ok := md.Ints(key); ok && len(vs) > 0 {
		return vs[0]
	}
	return 0
}

// layerOf returns the layer index the FFN rules use: the running count of
// such tensors, or for mixture-of-experts models the blk.N in the name.
func (m *model) layerOf(counter int, name string) (int, error) {
	if m.nExpert <= 1 {
		return counter, nil
	}
	var il int
	if _, err := fmt.Sscanf(name, "blk.%d.", &il); err != nil {
		return 0, fmt.Errorf("tensor %q: cannot tell its layer", name)
	}
	if il < 0 || il >= m.nLayer {
		return 0, fmt.Errorf("tensor %q: layer %d outside [0, %d)", name, il, m.nLayer)
	}
	return il, nil
}

// choose applies the mix's rules to one tensor (in file order, since some
// rules count tensors), starting from the default type def.
func (m *model) choose(t gguf.TensorInfo, ft gguf.FileType, def gguf.GGMLType) (gguf.GGMLType, error) {
	c := categorize(t.Name)
	nt := def
	falcon := m.arch == "falcon"
	switch {
	case c == catOutput || (m.tied && c == catTokenEmbd):
		if falcon || t.Dims[0]%blockSize(nt) != 0 {
			nt = gguf.TypeQ8_0
		} else if nt != gguf.TypeQ8_0 {
			nt = gguf.TypeQ6_K
		}
	case c == catTokenEmbd:
		// only the IQ and ternary mixes change untied embeddings
	case isAttnV(c):
		switch {
		case ft == ftQ2K:
			nt = gguf.TypeQ3_K
			if m.gqa() >= 4 {
				nt = gguf.TypeQ4_K
			}
		case ft == ftQ3KM:
			nt = gguf.TypeQ4_K
			if m.iAttnV < 2 {
				nt = gguf.TypeQ5_K
			}
		case ft == ftQ3KL:
			nt = gguf.TypeQ5_K
		case (ft == ftQ4KM || ft == ftQ5KM) && useMoreBits(m.iAttnV, m.nAttnV):
			nt = gguf.TypeQ6_K
		case ft == ftQ4KS && m.iAttnV < 4:
			nt = gguf.TypeQ5_K
		}
		if m.is70B && (nt == gguf.TypeQ3_K || nt == gguf.TypeQ4_K) {
			nt = gguf.TypeQ5_K
		}
		if m.nExpert == 8 {
			nt = gguf.TypeQ8_0
		}
		m.iAttnV++
	case c == catAttnK:
		if m.nExpert == 8 {
			nt = gguf.TypeQ8_0
		}
	case c == catFFNDown:
		il, err := m.layerOf(m.iDown, t.Name)
		if err != nil {
			return 0, err
		}
		n := m.nLayer
		switch {
		case ft == ftQ2K:
			nt = gguf.TypeQ3_K
		case ft == ftQ3KM:
			switch {
			case il < n/16:
				nt = gguf.TypeQ5_K
			case !falcon || useMoreBits(il, n):
				nt = gguf.TypeQ4_K
			default:
				nt = gguf.TypeQ3_K
			}
		case ft == ftQ3KL:
			nt = gguf.TypeQ5_K
			if falcon {
				nt = gguf.TypeQ4_K
			}
		case ft == ftQ4KM:
			if falcon {
				switch {
				case il < n/16:
					nt = gguf.TypeQ6_K
				case useMoreBits(il, n):
					nt = gguf.TypeQ5_K
				default:
					nt = gguf.TypeQ4_K
				}
			} else if useMoreBits(il, n) {
				nt = gguf.TypeQ6_K
			}
		case ft == ftQ5KM && useMoreBits(il, n):
			nt = gguf.TypeQ6_K
		case ft == ftQ4KS && !falcon && il < n/8:
			nt = gguf.TypeQ5_K
		}
		m.iDown++
	case c == catAttnOutput:
		if !falcon {
			if m.nExpert == 8 {
				switch ft {
				case ftQ2K, ftQ3KS, ftQ3KM, ftQ4KS, ftQ4KM:
					nt = gguf.TypeQ5_K
				}
			} else {
				switch ft {
				case ftQ2K:
					nt = gguf.TypeQ3_K
				case ftQ3KM:
					nt = gguf.TypeQ4_K
				case ftQ3KL:
					nt = gguf.TypeQ5_K
				}
			}
		} else if ft == ftQ3KL {
			nt = gguf.TypeQ4_K
		}
	case c == catFFNGate:
		if _, err := m.layerOf(m.iGate, t.Name); err != nil {
			return 0, err
		}
		m.iGate++
	case c == catFFNUp:
		if _, err := m.layerOf(m.iUp, t.Name); err != nil {
			return 0, err
		}
		m.iUp++
	}
	// The attn_qkv rules of llama.cpp come after its attn_v branch, which
	// already takes every fused QKV tensor, so they never apply.
	return fallback(t, nt)
}

func blockSize(t gguf.GGMLType) uint64 { return max(t.BlockSize(), 1) }

// fallback replaces a type whose blocks do not tile the rows, as
// llama.cpp does; it has no replacement for the 32-element types.
func fallback(t gguf.TensorInfo, nt gguf.GGMLType) (gguf.GGMLType, error) {
	if t.Dims[0]%blockSize(nt) == 0 {
		return nt, nil
	}
	switch nt {
	case gguf.TypeQ2_K, gguf.TypeQ3_K:
		nt = gguf.TypeQ4_0
	case gguf.TypeQ4_K:
		nt = gguf.TypeQ5_0
	case gguf.TypeQ5_K:
		nt = gguf.TypeQ5_1
	case gguf.TypeQ6_K:
		nt = gguf.TypeQ8_0
	default:
		return 0, fmt.Errorf("tensor %q: rows of %d elements do not divide into %s blocks", t.Name, t.Dims[0], nt)
	}
	if t.Dims[0]%blockSize(nt) != 0 {
		nt = gguf.TypeF16
	}
	return nt, nil
}

// Plan returns the type llama-quantize would give each tensor (in the
// order of tensors, which must be the order Sort puts them in) for file
// type ft. Tensors that are not quantized keep their type.
func Plan(md *gguf.Metadata, tensors []gguf.TensorInfo, ft gguf.FileType) ([]gguf.GGMLType, error) {
	def, ok := defaultType(ft)
	if !ok {
		return nil, fmt.Errorf("mix: file type %v is not supported (have %v)", ft, FileTypes)
	}
	m, err := newModel(md, tensors)
	if err != nil {
		return nil, fmt.Errorf("mix: %w", err)
	}
	out := make([]gguf.GGMLType, len(tensors))
	for i, t := range tensors {
		if !quantizable(t) {
			out[i] = t.Type
			continue
		}
		if out[i], err = m.choose(t, ft, def); err != nil {
			return nil, fmt.Errorf("mix: %w", err)
		}
	}
	return out, nil
}
