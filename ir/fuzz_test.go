package ir

import (
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

// FuzzBuilder calls builder methods with random, often invalid, arguments
// (axes out of range, mismatched shapes and dtypes, odd attributes): the
// builder must report errors, never panic, and a graph it accepts must
// pass shape inference again node by node.
func FuzzBuilder(f *testing.F) {
	f.Add(uint64(1), uint8(20))
	f.Add(uint64(7), uint8(60))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint8) {
		r := rand.New(rand.NewPCG(seed, seed^0xabcdef))
		b := NewBuilder()
		dims := []Dim{N(1), N(2), N(3), N(4), N(8), Sym("seq"), Sym("past").Add(Sym("seq")), N(0)}
		dts := []tensor.DType{tensor.F32, tensor.F16, tensor.I32, tensor.I64, tensor.Bool, tensor.Q8_0}
		shape := func() []Dim {
			s := make([]Dim, r.IntN(5))
			for i := range s {
				s[i] = dims[r.IntN(len(dims))]
			}
			return s
		}
		var vals []Value
		pick := func() Value {
			if len(vals) == 0 || r.IntN(10) == 0 {
				return Value{}
			}
			return vals[r.IntN(len(vals))]
		}
		ax := func() int { return r.IntN(9) - 4 }
		for i := range int(steps) {
			var v Value
			name := string(rune('a'+i%26)) + string(rune('0'+i/26))
			switch r.IntN(24) {
			case 0:
				v = b.Input(name, dts[r.IntN(len(dts))], shape()...)
			case 1:
				v = b.Param(name, dts[r.IntN(len(dts))], shape()...)
			case 2:
				v = b.Add(pick(), pick())
			case 3:
				v = b.MatMulTrans(pick(), pick(), r.IntN(2) == 0, r.IntN(2) == 0)
			case 4:
				v = b.Softmax(pick(), ax())
			case 5:
				v = b.RMSNorm(pick(), pick(), 1e-6)
			case 6:
				v = b.LayerNorm(pick(), pick(), pick(), 1e-5)
			case 7:
				v = b.RoPE(pick(), pick(), pick(), RoPEAttr{RotaryDim: r.IntN(10) - 1})
			case 8:
				o := AttentionOptions{Causal: r.IntN(2) == 0, Window: r.IntN(3) - 1, Mask: pick(), Past: dims[r.IntN(len(dims))]}
				if r.IntN(2) == 0 {
					c := b.KVCache(name, dts[r.IntN(len(dts))], dims[r.IntN(len(dims))], dims[r.IntN(len(dims))], r.IntN(3), r.IntN(9))
					o.Cache = &c
				}
				v = b.Attention(pick(), pick(), pick(), o)
			case 9:
				v = b.Gather(pick(), pick())
			case 10:
				v = b.Concat(ax(), pick(), pick())
			case 11:
				v = b.Slice(pick(), ax(), dims[r.IntN(len(dims))], dims[r.IntN(len(dims))])
			case 12:
				v = b.Reshape(pick(), shape()...)
			case 13:
				v = b.Permute(pick(), r.Perm(r.IntN(5))...)
			case 14:
				v = b.ReduceSum(pick(), r.IntN(2) == 0, ax(), ax())
			case 15:
				v = b.ArgMax(pick(), ax(), r.IntN(2) == 0)
			case 16:
				v = b.Conv1D(pick(), pick(), pick(), ConvOptions{Stride: []int{r.IntN(3)}, Pad: []int{r.IntN(3) - 1}, Groups: r.IntN(3)})
			case 17:
				v = b.Pad(pick(), []int{r.IntN(3) - 1}, []int{r.IntN(3)}, PadMode(r.IntN(3)), 0)
			case 18:
				v = b.Where(pick(), pick(), pick())
			case 19:
				v = b.Cast(pick(), dts[r.IntN(len(dts))])
			case 20:
				v, _ = b.TopK(pick(), r.IntN(5)-1)
			case 21:
				v = b.Split(pick(), ax(), N(1), N(r.IntN(3)))[0]
			case 22:
				switch r.IntN(4) {
				case 0:
					v, _ = b.LSTMCell(pick(), pick(), pick(), pick(), pick(), pick(), pick())
				case 1:
					v = b.RoPETable(pick(), pick(), pick())
				case 2:
					v = b.MoE(pick(), pick(), pick(), pick(), pick(), Op(r.IntN(int(numOps))))
				default:
					v = b.MoEExperts(pick(), pick(), []Value{pick()}, []Value{pick()}, []Value{pick(), pick()}, OpSilu)
				}
			default:
				b.Output(name, pick())
				continue
			}
			if v.Valid() {
				vals = append(vals, v)
			}
			if b.Err() != nil {
				// Keep calling: every method must stay safe after an error.
				b.Exp(pick())
			}
		}
		g, err := b.Build()
		if err != nil {
			return
		}
		for _, n := range g.Nodes {
			if n.Op.Kind() == KindSource {
				continue
			}
			dt, s, err := Infer(n.Op, n.Attr, n.Inputs, n.DType, n.Shape)
			if err != nil || dt != n.DType || !s.Equal(n.Shape) {
				t.Fatalf("node %v does not re-infer: %v %v %v", n, dt, s, err)
			}
		}
	})
}
