package qwen3moe

import (
	"fmt"

	"github.com/rlx-go/rlx/models/nn"
	"github.com/rlx-go/rlx/tensor"
	"github.com/rlx-go/rlx/weights"
)

// Names maps Qwen3-MoE's Hugging Face tensor names to llama.cpp's: the
// shared decoder names (the router "mlp.gate" is "ffn_gate_inp").
var Names = weights.DecoderNames

// splitExperts serves every expert's gate/up/down projection under its
// Hugging Face per-expert name when the checkpoint stacks them: GGUF's
// blk.N.ffn_{gate,up,down}_exps [E, F, D] / [E, D, F], or transformers 5's
// fused mlp.experts.gate_up_proj [E, 2F, D] and mlp.experts.down_proj. The
// experts are zero-copy row ranges of the stacked tensor (block-quantized
// rows stay packed).
func splitExperts(c *nn.Config, p *nn.Params) error {
	for l := range c.Layers {
		if c.DenseLayers[l] {
			continue
		}
		pre := nn.L(l) + "mlp.experts."
		if p.Has(pre + "0.gate_proj.weight") {
			continue
		}
		type part struct {
			stored, name string
			rows, cols   int
			skip         int // rows of each expert before this part (fused gate_up)
			per          int // rows per expert in the stored tensor
		}
		gguf := fmt.Sprintf("blk.%d.", l)
		F, D := c.ExpertFFN, c.Hidden
		var parts []part
		if _, ok := p.Find(gguf + "ffn_gate_exps.weight"); ok {
			parts = []part{
				{gguf + "ffn_gate_exps.weight", "gate_proj", F, D, 0, F},
				{gguf + "ffn_up_exps.weight", "up_proj", F, D, 0, F},
				{gguf + "ffn_down_exps.weight", "down_proj", D, F, 0, D},
			}
		} else if _, ok := p.Find(pre + "gate_up_proj"); ok {
			parts = []part{
				{pre + "gate_up_proj", "gate_proj", F, D, 0, 2 * F},
				{pre + "gate_up_proj", "up_proj", F, D, F, 2 * F},
				{pre + "down_proj", "down_proj", D, F, 0, D},
			}
		} else {
			continue // the graph reports the missing per-expert tensors
		}
		for _, pt := range parts {
			t, _ := p.Find(pt.stored)
			if len(t.Shape) != 3 || int(t.Shape[0]) != c.Experts || int(t.Shape[1]) != pt.per || int(t.Shape[2]) != pt.cols {
				return &weights.Error{Path: t.File, Tensor: t.Name, Err: fmt.Errorf("%w: shape %v, want [%d %d %d]", nn.ErrShape, t.Shape, c.Experts, pt.per, pt.cols)}
			}
			if t.DType == tensor.Invalid {
				return &weights.Error{Path: t.File, Tensor: t.Name, Err: fmt.Errorf("tensor type %s is not supported", t.TypeName)}
			}
			rowBytes, err := tensor.Bytes(t.DType, []int{1, pt.cols})
			if err != nil {
				return &weights.Error{Path: t.File, Tensor: t.Name, Err: err}
			}
			for e := range c.Experts {
				off := (int64(e)*int64(pt.per) + int64(pt.skip)) * rowBytes
				end := off + int64(pt.rows)*rowBytes
				if end > int64(len(t.Data)) {
					return &weights.Error{Path: t.File, Tensor: t.Name, Err: fmt.Errorf("expert %d lies past the tensor's %d bytes", e, len(t.Data))}
				}
				p.Set(fmt.Sprintf("%s%d.%s.weight", pre, e, pt.name), &tensor.Tensor{DType: t.DType, Shape: []int{pt.rows, pt.cols}, Data: t.Data[off:end:end]})
			}
		}
	}
	return nil
}
