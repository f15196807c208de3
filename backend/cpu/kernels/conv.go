package kernels

import (
	"errors"
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu/gemm"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

// Conv describes an N-dimensional convolution (N = len(In): 1 for conv1d,
// 2 for conv2d) in PyTorch's layout and semantics (cross-correlation):
// input [B, Cin, In...], weight [Cout, Cin/Groups, Kernel...], optional bias
// [Cout], output [B, Cout, Out...] with
//
//	Out[d] = (In[d] + PadBefore[d] + PadAfter[d] − Dilation[d]·(Kernel[d]−1) − 1)/Stride[d] + 1.
//
// Zero-valued Stride/Dilation entries mean 1; nil Pad slices mean 0. Groups
// = Cin = Cout is a depthwise convolution.
type Conv struct {
	B, Cin, Cout, Groups int
	In, Kernel           []int
	Stride, Dilation     []int
	PadBefore, PadAfter  []int
}

// ErrConv reports an inconsistent convolution description.
var ErrConv = errors.New("conv")

func at(s []int, d, def int) int {
	if d < len(s) && s[d] != 0 {
		return s[d]
	}
	return def
}

// OutDims returns the output spatial sizes.
func (c *Conv) OutDims() []int {
	out := make([]int, len(c.In))
	for d := range c.In {
		span := at(c.Dilation, d, 1)*(c.Kernel[d]-1) + 1
		out[d] = (c.In[d]+at(c.PadBefore, d, 0)+at(c.PadAfter, d, 0)-span)/at(c.Stride, d, 1) + 1
	}
	return out
}

func prodInts(s []int) int {
	p := 1
	for _, v := range s {
		p *= v
	}
	return p
}

// Validate checks the description and the slice lengths.
func (c *Conv) Validate(out, in, w, bias []float32) error {
	g := max(c.Groups, 1)
	if c.B <= 0 || c.Cin <= 0 || c.Cout <= 0 || c.Cin%g != 0 || c.Cout%g != 0 {
		return fmt.Errorf("%w: B=%d Cin=%d Cout=%d groups=%d", ErrConv, c.B, c.Cin, c.Cout, g)
	}
	if len(c.In) == 0 || len(c.Kernel) != len(c.In) {
		return fmt.Errorf("%w: %d spatial dims, kernel has %d", ErrConv, len(c.In), len(c.Kernel))
	}
	for d := range c.In {
		if c.Kernel[d] <= 0 || c.In[d] <= 0 || at(c.Stride, d, 1) <= 0 || at(c.Dilation, d, 1) <= 0 || at(c.PadBefore, d, 0) < 0 || at(c.PadAfter, d, 0) < 0 {
			return fmt.Errorf("%w: dim %d: in %d kernel %d stride %d dilation %d pad %d/%d", ErrConv, d, c.In[d], c.Kernel[d],
				at(c.Stride, d, 1), at(c.Dilation, d, 1), at(c.PadBefore, d, 0), at(c.PadAfter, d, 0))
		}
	}
	od := c.OutDims()
	for d, o := range od {
		if o <= 0 {
			return fmt.Errorf("%w: dim %d: output size %d (input too small for the kernel)", ErrConv, d, o)
		}
	}
	if n := c.B * c.Cin * prodInts(c.In); len(in) < n {
		return fmt.Errorf("%w: input has %d elements, need %d", ErrConv, len(in), n)
	}
	if n := c.Cout * (c.Cin / g) * prodInts(c.Kernel); len(w) < n {
		return fmt.Errorf("%w: weight has %d elements, need %d", ErrConv, len(w), n)
	}
	if bias != nil && len(bias) < c.Cout {
		return fmt.Errorf("%w: bias has %d elements, need %d", ErrConv, len(bias), c.Cout)
	}
	if n := c.B * c.Cout * prodInts(od); len(out) < n {
		return fmt.Errorf("%w: output has %d elements, need %d", ErrConv, len(out), n)
	}
	return nil
}

// Run computes the convolution: per (batch, group) the receptive fields are
// unfolded (im2col) and multiplied by the weights. With a *parallel.Pool as
// the runner and enough work the product goes through the packed GEMM;
// otherwise each output channel row accumulates Σ w·col with the vector axpy
// kernel, in parallel over output channels (over (batch, group) when the
// groups are small, as in depthwise convolutions).
func (c *Conv) Run(r Runner, out, in, w, bias []float32) error {
	if err := c.Validate(out, in, w, bias); err != nil {
		return err
	}
	g := max(c.Groups, 1)
	cig, cog := c.Cin/g, c.Cout/g
	od := c.OutDims()
	nOut := prodInts(od)
	nIn := prodInts(c.In)
	kk := prodInts(c.Kernel)
	rows := cig * kk
	if cog < 8 && c.B*g > 1 {
		// Many small groups (depthwise): parallel over (batch, group), each
		// worker unfolding into its own buffer.
		workers := 1
		if r != nil {
			workers = max(r.Size(), 1)
		}
		cols := make([][]float32, workers)
		run(r, c.B*g, func(t, wk int) {
			if cols[wk] == nil {
				cols[wk] = make([]float32, rows*nOut)
			}
			col := cols[wk]
			b, gi := t/g, t%g
			c.Im2Col(col, in[(b*c.Cin+gi*cig)*nIn:][:cig*nIn], cig)
			for co := range cog {
				oc := gi*cog + co
				dst := out[(b*c.Cout+oc)*nOut:][:nOut]
				v := float32(0)
				if bias != nil {
					v = bias[oc]
				}
				Fill(dst, v)
				impl.axpysF32(dst, w[oc*rows:(oc+1)*rows], col, nOut)
			}
		})
		return nil
	}
	col := make([]float32, rows*nOut)
	if pool, ok := r.(*parallel.Pool); ok && pool != nil && cog*rows*nOut >= 1<<15 {
		for b := range c.B {
			for gi := range g {
				c.Im2Col(col, in[(b*c.Cin+gi*cig)*nIn:][:cig*nIn], cig)
				dst := out[(b*c.Cout+gi*cog)*nOut:][:cog*nOut]
				if err := gemm.MatMul(pool, gemm.Matrix{Data: dst, Stride: nOut}, gemm.Matrix{Data: w[gi*cog*rows:][:cog*rows], Stride: rows},
					gemm.B{Layout: gemm.KN, F32: col, Stride: nOut}, cog, nOut, rows, false); err != nil {
					return fmt.Errorf("%w: %w", ErrConv, err)
				}
				if bias != nil {
					for co := range cog {
						BinaryScalar(Add, dst[co*nOut:(co+1)*nOut], dst[co*nOut:(co+1)*nOut], bias[gi*cog+co])
					}
				}
			}
		}
		return nil
	}
	for b := range c.B {
		for gi := range g {
			src := in[(b*c.Cin+gi*cig)*nIn:][:cig*nIn]
			c.Im2Col(col, src, cig)
			const chunk = 8
			tasks := (cog + chunk - 1) / chunk
			run(r, tasks, func(t, _ int) {
				for co := t * chunk; co < min((t+1)*chunk, cog); co++ {
					oc := gi*cog + co
					dst := out[(b*c.Cout+oc)*nOut:][:nOut]
					v := float32(0)
					if bias != nil {
						v = bias[oc]
					}
					Fill(dst, v)
					impl.axpysF32(dst, w[oc*rows:(oc+1)*rows], col, nOut)
				}
			})
		}
	}
	return nil
}

// Im2Col unfolds ch input channels (each prod(In) values) into col, a
// [ch·prod(Kernel), prod(Out)] matrix whose row (c, k...) holds the input
// value each output position sees through kernel tap k (0 in the padding).
// With it a convolution is a matrix product weight[Cout, ch·prod(Kernel)] × col.
func (c *Conv) Im2Col(col, src []float32, ch int) {
	od := c.OutDims()
	nOut := prodInts(od)
	nIn := prodInts(c.In)
	kk := prodInts(c.Kernel)
	nd := len(c.In)
	tap := make([]int, nd)
	pos := make([]int, nd)
	for ci := range ch {
		plane := src[ci*nIn : (ci+1)*nIn]
		for k := range kk {
			// kernel tap coordinates
			rem := k
			for d := nd - 1; d >= 0; d-- {
				tap[d] = rem % c.Kernel[d]
				rem /= c.Kernel[d]
			}
			row := col[(ci*kk+k)*nOut:][:nOut]
			switch nd {
			case 1:
				c.im2colRow1(row, plane, tap[0])
				continue
			case 2:
				c.im2colRow2(row, plane, tap[0], tap[1], od)
				continue
			}
			for o := range nOut {
				rem := o
				for d := nd - 1; d >= 0; d-- {
					pos[d] = rem % od[d]
					rem /= od[d]
				}
				idx, ok := 0, true
				for d := range nd {
					x := pos[d]*at(c.Stride, d, 1) + tap[d]*at(c.Dilation, d, 1) - at(c.PadBefore, d, 0)
					if x < 0 || x >= c.In[d] {
						ok = false
						break
					}
					idx = idx*c.In[d] + x
				}
				if ok {
					row[o] = plane[idx]
				} else {
					row[o] = 0
				}
			}
		}
	}
}

func (c *Conv) im2colRow1(row, plane []float32, tap int) {
	s, dl, p := at(c.Stride, 0, 1), at(c.Dilation, 0, 1), at(c.PadBefore, 0, 0)
	off := tap*dl - p
	for o := range row {
		x := o*s + off
		if x < 0 || x >= len(plane) {
			row[o] = 0
		} else {
			row[o] = plane[x]
		}
	}
}

// im2colRow2 fills one im2col row of a 2-d convolution: output position
// (oh, ow) sees input (oh·sh + th·dh − ph, ow·sw + tw·dw − pw).
func (c *Conv) im2colRow2(row, plane []float32, th, tw int, od []int) {
	H, W := c.In[0], c.In[1]
	sh, sw := at(c.Stride, 0, 1), at(c.Stride, 1, 1)
	y0 := th*at(c.Dilation, 0, 1) - at(c.PadBefore, 0, 0)
	x0 := tw*at(c.Dilation, 1, 1) - at(c.PadBefore, 1, 0)
	OW := od[1]
	for oh := range od[0] {
		out := row[oh*OW : (oh+1)*OW]
		y := oh*sh + y0
		if y < 0 || y >= H {
			clear(out)
			continue
		}
		src := plane[y*W : (y+1)*W]
		x := x0
		for ow := range out {
			if x >= 0 && x < W {
				out[ow] = src[x]
			} else {
				out[ow] = 0
			}
			x += sw
		}
	}
}
