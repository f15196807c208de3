package onnx

import (
	"encoding/binary"
	"math"
)

// A minimal protobuf encoder for building test models. It is deliberately
// independent of the decoder: it only appends tags, varints and bytes.

type msg []byte

func (m msg) tag(num, typ int) msg { return binary.AppendUvarint(m, uint64(num)<<3|uint64(typ)) }

func (m msg) varint(num int, v int64) msg {
	return binary.AppendUvarint(m.tag(num, wireVarint), uint64(v))
}

func (m msg) bytes(num int, b []byte) msg {
	m = binary.AppendUvarint(m.tag(num, wireBytes), uint64(len(b)))
	return append(m, b...)
}

func (m msg) str(num int, s string) msg { return m.bytes(num, []byte(s)) }

func (m msg) fixed32(num int, v uint32) msg {
	return binary.LittleEndian.AppendUint32(m.tag(num, wireFixed32), v)
}

func (m msg) packedVarints(num int, vs ...int64) msg {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return m.bytes(num, b)
}

func (m msg) packedFloats(num int, vs ...float32) msg {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return m.bytes(num, b)
}

func rawFloats(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// testModel builds a model with one Conv node, two initializers (one raw,
// one float_data), value infos and an If node whose branches hold subgraphs.
func testModel() []byte {
	w := msg{}.packedVarints(1, 2, 1, 3).varint(2, int64(Float)).str(8, "conv.weight").
		bytes(9, rawFloats(1, 2, 3, 4, 5, 6))
	b := msg{}.varint(1, 2).varint(2, int64(Float)).str(8, "conv.bias").packedFloats(4, 0.5, -0.5)
	k := msg{}.varint(1, 1).varint(2, int64(Int64)).str(8, "k").varint(7, 7) // unpacked dims and int64_data
	conv := msg{}.str(1, "x").str(1, "conv.weight").str(1, "conv.bias").str(2, "y").
		str(3, "conv0").str(4, "Conv").
		bytes(5, msg{}.str(1, "strides").varint(20, int64(AttrInts)).packedVarints(8, 2)).
		bytes(5, msg{}.str(1, "alpha").varint(20, int64(AttrFloat)).fixed32(2, math.Float32bits(0.25))).
		bytes(5, msg{}.str(1, "mode").varint(20, int64(AttrString)).str(4, "reflect"))
	thenG := msg{}.str(2, "then").bytes(1, msg{}.str(1, "y").str(2, "z").str(4, "Relu"))
	elseG := msg{}.str(2, "else").bytes(1, msg{}.str(1, "y").str(2, "z").str(4, "Sigmoid"))
	ifNode := msg{}.str(1, "cond").str(2, "z").str(4, "If").
		bytes(5, msg{}.str(1, "then_branch").varint(20, int64(AttrGraph)).bytes(6, thenG)).
		bytes(5, msg{}.str(1, "else_branch").varint(20, int64(AttrGraph)).bytes(6, elseG))
	tensorType := func(elem int64, dims ...any) msg {
		shape := msg{}
		for _, d := range dims {
			switch d := d.(type) {
			case int:
				shape = shape.bytes(1, msg{}.varint(1, int64(d)))
			case string:
				shape = shape.bytes(1, msg{}.str(2, d))
			}
		}
		return msg{}.bytes(1, msg{}.varint(1, elem).bytes(2, shape))
	}
	g := msg{}.str(2, "main").bytes(1, conv).bytes(1, ifNode).bytes(5, w).bytes(5, b).bytes(5, k).
		bytes(11, msg{}.str(1, "x").bytes(2, tensorType(int64(Float), "batch", 1, 8))).
		bytes(11, msg{}.str(1, "cond").bytes(2, tensorType(int64(Bool)))).
		bytes(12, msg{}.str(1, "z").bytes(2, tensorType(int64(Float), "batch", 2, 4)))
	return msg{}.varint(1, 8).str(2, "test").str(3, "1.0").bytes(7, g).
		bytes(8, msg{}.str(1, "").varint(2, 17)).
		bytes(14, msg{}.str(1, "author").str(2, "rlx"))
}
