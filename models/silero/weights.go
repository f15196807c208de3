package silero

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rlx-go/rlx/format/onnx"
)

// Rate-specific geometry of Silero VAD v5. The 16 kHz and 8 kHz branches
// are the same network with a different STFT size and separate weights.
type geometry struct {
	rate    int
	window  int // new samples per call
	context int // samples of the previous window prepended to each call
	nfft    int // STFT frame (filter) length
	hop     int
}

var (
	geom16k = geometry{rate: 16000, window: 512, context: 64, nfft: 256, hop: 128}
	geom8k  = geometry{rate: 8000, window: 256, context: 32, nfft: 128, hop: 64}
)

func (g geometry) freqs() int   { return g.nfft/2 + 1 }
func (g geometry) padding() int { return g.nfft / 4 } // right reflection pad of the STFT
func (g geometry) prefix() string {
	return fmt.Sprintf("%dk.", g.rate/1000)
}

const (
	hidden  = 128 // LSTM width
	encLays = 4
)

// encoder layer shapes: out channels and stride. In channels chain from the
// STFT bins.
var encOut = [encLays]int{128, 64, 64, 128}
var encStride = [encLays]int{1, 2, 2, 1}

// Param is one named weight tensor in rlx's naming, float32 row-major.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// paramShapes lists every tensor of one rate branch with its shape.
func paramShapes(g geometry) []Param {
	p := g.prefix()
	ps := []Param{{Name: p + "stft.basis", Shape: []int{2 * g.freqs(), 1, g.nfft}}}
	in := g.freqs()
	for i := range encLays {
		ps = append(ps,
			Param{Name: fmt.Sprintf("%sencoder.%d.weight", p, i), Shape: []int{encOut[i], in, 3}},
			Param{Name: fmt.Sprintf("%sencoder.%d.bias", p, i), Shape: []int{encOut[i]}})
		in = encOut[i]
	}
	return append(ps,
		Param{Name: p + "lstm.weight_ih", Shape: []int{4 * hidden, hidden}},
		Param{Name: p + "lstm.weight_hh", Shape: []int{4 * hidden, hidden}},
		Param{Name: p + "lstm.bias_ih", Shape: []int{4 * hidden}},
		Param{Name: p + "lstm.bias_hh", Shape: []int{4 * hidden}},
		Param{Name: p + "decoder.weight", Shape: []int{1, hidden, 1}},
		Param{Name: p + "decoder.bias", Shape: []int{1}},
	)
}

// ParamNames lists the tensor names the model reads, in a fixed order.
func ParamNames() []string {
	var names []string
	for _, g := range []geometry{geom16k, geom8k} {
		for _, p := range paramShapes(g) {
			names = append(names, p.Name)
		}
	}
	return names
}

// onnxNames maps rlx's tensor names (without the rate prefix) to the
// suffix of the Constant that holds them in the exported ONNX graph.
var onnxNames = map[string]string{
	"stft.basis":     "stft.forward_basis_buffer",
	"lstm.weight_ih": "decoder.rnn.weight_ih",
	"lstm.weight_hh": "decoder.rnn.weight_hh",
	"lstm.bias_ih":   "decoder.rnn.bias_ih",
	"lstm.bias_hh":   "decoder.rnn.bias_hh",
	"decoder.weight": "decoder.decoder.2.weight",
	"decoder.bias":   "decoder.decoder.2.bias",
}

func onnxName(local string) string {
	if n, ok := onnxNames[local]; ok {
		return n
	}
	// encoder.N.weight -> encoder.N.reparam_conv.weight
	i := strings.LastIndexByte(local, '.')
	return local[:i] + ".reparam_conv" + local[i:]
}

// FromONNX extracts the weights of both rate branches from the Silero VAD
// v5 ONNX export (the model whose top level is If(sr == 16000)), after
// checking that the graph has the structure this package implements:
// reflection-padded STFT convolution, four 3-tap encoder convolutions with
// ReLU, one LSTM step of width 128, and a 1×1 convolution with sigmoid.
func FromONNX(m *onnx.Model) ([]Param, error) {
	g := m.Graph
	var ifNode *onnx.Node
	for _, n := range g.Nodes {
		if n.OpType == "If" {
			ifNode = n
			break
		}
	}
	if ifNode == nil || ifNode.Attr("then_branch") == nil || ifNode.Attr("else_branch") == nil {
		return nil, errors.New("silero: no top-level If node with both branches (not a Silero VAD v5 export?)")
	}
	for _, in := range []string{"input", "state", "sr"} {
		if !slices.ContainsFunc(g.Inputs, func(v onnx.ValueInfo) bool { return v.Name == in }) {
			return nil, fmt.Errorf("silero: graph has no input %q", in)
		}
	}
	var out []Param
	for _, br := range []struct {
		attr string
		geom geometry
	}{{"then_branch", geom16k}, {"else_branch", geom8k}} {
		ps, err := branchParams(ifNode.Attr(br.attr).G, br.geom)
		if err != nil {
			return nil, fmt.Errorf("silero: %s (%d Hz): %w", br.attr, br.geom.rate, err)
		}
		out = append(out, ps...)
	}
	return out, nil
}

func branchParams(g *onnx.Graph, geo geometry) ([]Param, error) {
	consts := map[string]*onnx.Tensor{}
	counts := map[string]int{}
	var convs []*onnx.Node
	var pads, lstms int
	err := g.Walk(func(path string, n *onnx.Node) error {
		counts[n.OpType]++
		switch n.OpType {
		case "Constant":
			if a := n.Attr("value"); a != nil && a.T != nil && len(n.Outputs) == 1 {
				consts[n.Outputs[0]] = a.T
			}
		case "Conv":
			convs = append(convs, n)
		case "Pad":
			pads++
			if a := n.Attr("mode"); a == nil || string(a.S) != "reflect" {
				return fmt.Errorf("%s: Pad is not in reflect mode", path)
			}
		case "LSTM":
			lstms++
			if a := n.Attr("hidden_size"); a == nil || a.I != hidden {
				return fmt.Errorf("%s: LSTM hidden_size is not %d", path, hidden)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pads != 1 || counts["Sigmoid"] != 1 || counts["Sqrt"] != 1 || lstms == 0 {
		return nil, fmt.Errorf("unexpected graph: %d Pad, %d Sigmoid, %d Sqrt, %d LSTM nodes", pads, counts["Sigmoid"], counts["Sqrt"], lstms)
	}
	// The convolutions in order: STFT, four encoder layers, the 1x1 decoder.
	wantConv := []struct{ k, stride, pad int }{{geo.nfft, geo.hop, 0}}
	for i := range encLays {
		wantConv = append(wantConv, struct{ k, stride, pad int }{3, encStride[i], 1})
	}
	wantConv = append(wantConv, struct{ k, stride, pad int }{1, 1, 0})
	if len(convs) != len(wantConv) {
		return nil, fmt.Errorf("%d Conv nodes, want %d", len(convs), len(wantConv))
	}
	for i, c := range convs {
		w := wantConv[i]
		if !attrInts(c, "kernel_shape", w.k) || !attrInts(c, "strides", w.stride) || !attrInts(c, "pads", w.pad, w.pad) {
			return nil, fmt.Errorf("conv node %q: want kernel %d, stride %d, pads %d", c.Name, w.k, w.stride, w.pad)
		}
	}
	// The STFT padding amount is a constant [0, pad] in the padding subgraph.
	foundPad := false
	for name, t := range consts {
		if strings.HasSuffix(name, "/stft/padding/Constant_1_output_0") {
			v, err := t.Int64()
			foundPad = foundPad || (err == nil && slices.Equal(v, []int64{0, int64(geo.padding())}))
		}
	}
	if !foundPad {
		return nil, fmt.Errorf("STFT padding is not [0, %d]", geo.padding())
	}

	ps := paramShapes(geo)
	for i := range ps {
		local := strings.TrimPrefix(ps[i].Name, geo.prefix())
		suffix := "__" + onnxName(local)
		var t *onnx.Tensor
		for name, c := range consts {
			if strings.HasSuffix(name, suffix) || name == onnxName(local) {
				if t != nil {
					return nil, fmt.Errorf("two constants match %q", onnxName(local))
				}
				t = c
			}
		}
		if t == nil {
			return nil, fmt.Errorf("no constant %q", onnxName(local))
		}
		if !slices.Equal(t.Shape(), ps[i].Shape) {
			return nil, fmt.Errorf("%q has shape %v, want %v", onnxName(local), t.Shape(), ps[i].Shape)
		}
		data, err := t.Float32()
		if err != nil {
			return nil, err
		}
		ps[i].Data = data
	}
	return ps, nil
}

func attrInts(n *onnx.Node, name string, want ...int) bool {
	a := n.Attr(name)
	if a == nil || len(a.Ints) != len(want) {
		return false
	}
	for i, w := range want {
		if a.Ints[i] != int64(w) {
			return false
		}
	}
	return true
}
