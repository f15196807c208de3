package silero

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/onnx"
)

// pb is a minimal protobuf writer for synthetic ONNX files.
type pb []byte

func (m pb) bytes(num int, b []byte) pb {
	m = binary.AppendUvarint(m, uint64(num)<<3|2)
	m = binary.AppendUvarint(m, uint64(len(b)))
	return append(m, b...)
}
func (m pb) str(num int, s string) pb { return m.bytes(num, []byte(s)) }
func (m pb) varint(num int, v int64) pb {
	return binary.AppendUvarint(binary.AppendUvarint(m, uint64(num)<<3), uint64(v))
}
func (m pb) ints(num int, vs ...int64) pb {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return m.bytes(num, b)
}

func floatTensor(dims []int, data []float32) pb {
	t := pb{}
	for _, d := range dims {
		t = t.varint(1, int64(d))
	}
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return t.varint(2, 1).bytes(9, raw)
}

func constNode(out string, t pb) pb {
	return pb{}.str(2, out).str(4, "Constant").bytes(5, pb{}.str(1, "value").varint(20, 4).bytes(5, t))
}

func intsAttr(name string, vs ...int64) pb {
	return pb{}.str(1, name).varint(20, 7).ints(8, vs...)
}

// mutation changes one aspect of the synthetic export.
type mutation struct {
	padMode    string
	encStride1 int64
	lstmWidth  int64
	padAmount  int64
	dropTensor string
}

// syntheticExport writes an ONNX model shaped like the Silero VAD v5 export
// (If on sr, one branch per rate, weights in Constant nodes named as the
// exporter names them) holding params.
func syntheticExport(params []Param, mut mutation) []byte {
	by := map[string]Param{}
	for _, p := range params {
		by[p.Name] = p
	}
	branch := func(geo geometry, inline string) pb {
		g := pb{}.str(2, inline)
		for _, p := range paramShapes(geo) {
			local := strings.TrimPrefix(p.Name, geo.prefix())
			if local == mut.dropTensor {
				continue
			}
			g = g.bytes(1, constNode(inline+"__"+onnxName(local), floatTensor(p.Shape, by[p.Name].Data)))
		}
		pad := int64(geo.padding())
		if mut.padAmount != 0 {
			pad = mut.padAmount
		}
		g = g.bytes(1, constNode(inline+"__/stft/padding/Constant_1_output_0", pb{}.varint(1, 2).varint(2, 7).ints(7, 0, pad)))
		mode := "reflect"
		if mut.padMode != "" {
			mode = mut.padMode
		}
		g = g.bytes(1, pb{}.str(1, "input").str(2, "padded").str(4, "Pad").bytes(5, pb{}.str(1, "mode").varint(20, 3).str(4, mode)))
		conv := func(name string, k, s, p int64) pb {
			return pb{}.str(3, name).str(4, "Conv").bytes(5, intsAttr("kernel_shape", k)).bytes(5, intsAttr("strides", s)).bytes(5, intsAttr("pads", p, p))
		}
		g = g.bytes(1, conv("stft", int64(geo.nfft), int64(geo.hop), 0))
		for i := range encLays {
			s := int64(encStride[i])
			if i == 1 && mut.encStride1 != 0 {
				s = mut.encStride1
			}
			g = g.bytes(1, conv(fmt.Sprintf("enc%d", i), 3, s, 1))
		}
		width := int64(hidden)
		if mut.lstmWidth != 0 {
			width = mut.lstmWidth
		}
		g = g.bytes(1, pb{}.str(4, "Sqrt")).
			bytes(1, pb{}.str(4, "LSTM").bytes(5, pb{}.str(1, "hidden_size").varint(20, 2).varint(3, width))).
			bytes(1, conv("dec", 1, 1, 0)).
			bytes(1, pb{}.str(4, "Sigmoid"))
		return g
	}
	ifNode := pb{}.str(1, "is16k").str(2, "output").str(4, "If").
		bytes(5, pb{}.str(1, "else_branch").varint(20, 5).bytes(6, branch(geom8k, "If_0_else_branch__Inline_0"))).
		bytes(5, pb{}.str(1, "then_branch").varint(20, 5).bytes(6, branch(geom16k, "If_0_then_branch__Inline_0")))
	g := pb{}.str(2, "main").bytes(1, pb{}.str(1, "sr").str(2, "is16k").str(4, "Equal")).bytes(1, ifNode)
	for _, in := range []string{"input", "state", "sr"} {
		g = g.bytes(11, pb{}.str(1, in))
	}
	return pb{}.varint(1, 8).bytes(7, g).bytes(8, pb{}.varint(2, 16))
}

// TestFromONNXSynthetic round-trips the embedded weights through an export
// shaped like Silero's and checks that each structural check rejects a
// graph that differs.
func TestFromONNXSynthetic(t *testing.T) {
	params := embeddedParams(t)
	m, err := onnx.Decode(syntheticExport(params, mutation{}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(params) {
		t.Fatalf("%d params, want %d", len(got), len(params))
	}
	for i := range got {
		if got[i].Name != params[i].Name || !slices.Equal(got[i].Shape, params[i].Shape) || !slices.Equal(got[i].Data, params[i].Data) {
			t.Errorf("param %d: %s %v differs from %s %v", i, got[i].Name, got[i].Shape, params[i].Name, params[i].Shape)
		}
	}
	for _, c := range []struct {
		mut  mutation
		want string
	}{
		{mutation{padMode: "constant"}, "not in reflect mode"},
		{mutation{encStride1: 1}, `conv node "enc1": want kernel 3, stride 2`},
		{mutation{lstmWidth: 64}, "LSTM hidden_size is not 128"},
		{mutation{padAmount: 32}, "STFT padding is not [0, 64]"},
		{mutation{dropTensor: "lstm.bias_hh"}, `no constant "decoder.rnn.bias_hh"`},
	} {
		m, err := onnx.Decode(syntheticExport(params, c.mut))
		if err != nil {
			t.Fatal(err)
		}
		_, err = FromONNX(m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.mut, err, c.want)
		}
	}
}

// Writing the embedded tensors with the embedded metadata reproduces the
// embedded file byte for byte (the writer is deterministic), so what
// `rlx convert` writes is what the package embeds.
func TestSafetensorsRoundTrip(t *testing.T) {
	var buf strings.Builder
	if err := WriteSafetensors(&buf, embeddedParams(t), EmbeddedMetadata()); err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(embedded) {
		t.Errorf("rewritten file differs from the embedded one (%d vs %d bytes)", buf.Len(), len(embedded))
	}
}
