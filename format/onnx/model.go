// Package onnx decodes ONNX model files (the protobuf ModelProto) into plain
// Go values: the graph's nodes, inputs, outputs, initializers and the
// subgraphs held in control-flow attributes. It knows nothing of any model
// family and runs nothing; callers read weights and check graph structure.
//
// The decoder is written against the protobuf wire format directly. Every
// length is checked against the bytes that remain before anything is
// allocated, nesting is bounded, and errors name the field path
// (for example "graph.node[12].attribute[0].g.initializer[3]: ...").
package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
)

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("onnx: malformed model")

// maxDepth bounds the nesting of subgraphs (If/Loop bodies inside bodies);
// real models use a handful of levels.
const maxDepth = 64

// Model is a decoded ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Opsets          []OpsetID
	Metadata        []KeyValue
	Graph           *Graph
}

// OpsetID names an operator set the model was written against.
type OpsetID struct {
	Domain  string // "" is the default ONNX domain
	Version int64
}

// KeyValue is a metadata entry.
type KeyValue struct{ Key, Value string }

// Graph is a decoded GraphProto: the main graph or the body of an If/Loop/Scan.
type Graph struct {
	Name         string
	DocString    string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo
}

// Node is one operator application.
type Node struct {
	Name       string
	OpType     string
	Domain     string
	Inputs     []string // "" marks an omitted optional input
	Outputs    []string
	Attributes []*Attribute
	DocString  string
}

// Attr returns the node's attribute called name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attributes {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrType is ONNX's AttributeProto.AttributeType.
type AttrType int32

// Attribute types.
const (
	AttrUndefined AttrType = 0
	AttrFloat     AttrType = 1
	AttrInt       AttrType = 2
	AttrString    AttrType = 3
	AttrTensor    AttrType = 4
	AttrGraph     AttrType = 5
	AttrFloats    AttrType = 6
	AttrInts      AttrType = 7
	AttrStrings   AttrType = 8
	AttrTensors   AttrType = 9
	AttrGraphs    AttrType = 10
)

var attrTypeNames = map[AttrType]string{
	AttrUndefined: "UNDEFINED", AttrFloat: "FLOAT", AttrInt: "INT", AttrString: "STRING",
	AttrTensor: "TENSOR", AttrGraph: "GRAPH", AttrFloats: "FLOATS", AttrInts: "INTS",
	AttrStrings: "STRINGS", AttrTensors: "TENSORS", AttrGraphs: "GRAPHS",
	11: "SPARSE_TENSOR", 12: "SPARSE_TENSORS", 13: "TYPE_PROTO", 14: "TYPE_PROTOS",
}

func (t AttrType) String() string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("AttrType(%d)", int32(t))
}

// Attribute is a decoded AttributeProto. Only the member matching Type is set.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       []byte
	T       *Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings [][]byte
	Tensors []*Tensor
	Graphs  []*Graph
	RefName string // ref_attr_name, inside functions
}

// ValueInfo describes a graph input, output or intermediate value.
type ValueInfo struct {
	Name string
	// ElemType is the tensor element type; Undefined for non-tensor types.
	ElemType DataType
	// Shape is nil when the shape is unknown (a tensor of unknown rank).
	Shape     []Dim
	DocString string
}

// Dim is one dimension of a ValueInfo shape: a fixed size, a symbolic name,
// or neither (unknown).
type Dim struct {
	Value int64
	Param string
	Known bool // Value is meaningful
}

func (d Dim) String() string {
	switch {
	case d.Known:
		return fmt.Sprint(d.Value)
	case d.Param != "":
		return d.Param
	}
	return "?"
}

// ReadFile reads and decodes the ONNX model at path.
func ReadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode decodes a serialized ModelProto. Tensor data is copied out of data,
// which the caller may reuse afterwards.
func Decode(data []byte) (*Model, error) {
	m, err := decodeModel(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, nil
}

func decodeModel(b []byte) (*Model, error) {
	if len(b) == 0 {
		return nil, errors.New("empty input")
	}
	m := &Model{}
	err := eachField(b, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			m.IRVersion, err = f.int64("ir_version")
		case 2:
			m.ProducerName, err = f.str("producer_name")
		case 3:
			m.ProducerVersion, err = f.str("producer_version")
		case 4:
			m.Domain, err = f.str("domain")
		case 5:
			m.ModelVersion, err = f.int64("model_version")
		case 6:
			m.DocString, err = f.str("doc_string")
		case 7:
			if err = f.want(wireBytes, "graph"); err != nil {
				return err
			}
			if m.Graph != nil {
				return errors.New("graph: appears twice")
			}
			m.Graph, err = decodeGraph(f.b, 0)
			if err != nil {
				return fmt.Errorf("graph: %w", err)
			}
		case 8:
			if err = f.want(wireBytes, "opset_import"); err != nil {
				return err
			}
			var o OpsetID
			err = eachField(f.b, func(g *field) error {
				var err error
				switch g.num {
				case 1:
					o.Domain, err = g.str("domain")
				case 2:
					o.Version, err = g.int64("version")
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("opset_import[%d]: %w", len(m.Opsets), err)
			}
			m.Opsets = append(m.Opsets, o)
		case 14:
			if err = f.want(wireBytes, "metadata_props"); err != nil {
				return err
			}
			kv, err := decodeKeyValue(f.b)
			if err != nil {
				return fmt.Errorf("metadata_props[%d]: %w", len(m.Metadata), err)
			}
			m.Metadata = append(m.Metadata, kv)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, errors.New("no graph (is this an ONNX model file?)")
	}
	return m, nil
}

func decodeKeyValue(b []byte) (KeyValue, error) {
	var kv KeyValue
	err := eachField(b, func(g *field) error {
		var err error
		switch g.num {
		case 1:
			kv.Key, err = g.str("key")
		case 2:
			kv.Value, err = g.str("value")
		}
		return err
	})
	return kv, err
}

func decodeGraph(b []byte, depth int) (*Graph, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("subgraphs nested deeper than %d", maxDepth)
	}
	g := &Graph{}
	err := eachField(b, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			if err = f.want(wireBytes, "node"); err != nil {
				return err
			}
			n, err := decodeNode(f.b, depth)
			if err != nil {
				return fmt.Errorf("node[%d]: %w", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name, err = f.str("name")
		case 5:
			if err = f.want(wireBytes, "initializer"); err != nil {
				return err
			}
			t, err := decodeTensor(f.b)
			if err != nil {
				return fmt.Errorf("initializer[%d]: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case 10:
			g.DocString, err = f.str("doc_string")
		case 11, 12, 13:
			name := map[int]string{11: "input", 12: "output", 13: "value_info"}[f.num]
			if err = f.want(wireBytes, name); err != nil {
				return err
			}
			dst := map[int]*[]ValueInfo{11: &g.Inputs, 12: &g.Outputs, 13: &g.ValueInfo}[f.num]
			v, err := decodeValueInfo(f.b)
			if err != nil {
				return fmt.Errorf("%s[%d]: %w", name, len(*dst), err)
			}
			*dst = append(*dst, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func decodeNode(b []byte, depth int) (*Node, error) {
	n := &Node{}
	err := eachField(b, func(f *field) error {
		var err error
		var s string
		switch f.num {
		case 1:
			s, err = f.str("input")
			n.Inputs = append(n.Inputs, s)
		case 2:
			s, err = f.str("output")
			n.Outputs = append(n.Outputs, s)
		case 3:
			n.Name, err = f.str("name")
		case 4:
			n.OpType, err = f.str("op_type")
		case 5:
			if err = f.want(wireBytes, "attribute"); err != nil {
				return err
			}
			a, err := decodeAttribute(f.b, depth)
			if err != nil {
				return fmt.Errorf("attribute[%d]: %w", len(n.Attributes), err)
			}
			n.Attributes = append(n.Attributes, a)
		case 6:
			n.DocString, err = f.str("doc_string")
		case 7:
			n.Domain, err = f.str("domain")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func decodeAttribute(b []byte, depth int) (*Attribute, error) {
	a := &Attribute{}
	var typeSet bool
	err := eachField(b, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			a.Name, err = f.str("name")
		case 20:
			var t int32
			t, err = f.int32("type")
			a.Type, typeSet = AttrType(t), true
		case 21:
			a.RefName, err = f.str("ref_attr_name")
		case 2:
			if err = f.want(wireFixed32, "f"); err == nil {
				a.F = math.Float32frombits(uint32(f.u))
			}
		case 3:
			a.I, err = f.int64("i")
		case 4:
			if err = f.want(wireBytes, "s"); err == nil {
				a.S = append([]byte(nil), f.b...)
			}
		case 5:
			if err = f.want(wireBytes, "t"); err == nil {
				a.T, err = decodeTensor(f.b)
				if err != nil {
					err = fmt.Errorf("t: %w", err)
				}
			}
		case 6:
			if err = f.want(wireBytes, "g"); err == nil {
				a.G, err = decodeGraph(f.b, depth+1)
				if err != nil {
					err = fmt.Errorf("g: %w", err)
				}
			}
		case 7:
			var bits []uint32
			bits, err = f.repeatedFixed32(nil, "floats")
			for _, u := range bits {
				a.Floats = append(a.Floats, math.Float32frombits(u))
			}
		case 8:
			a.Ints, err = f.repeatedVarint(a.Ints, "ints")
		case 9:
			if err = f.want(wireBytes, "strings"); err == nil {
				a.Strings = append(a.Strings, append([]byte(nil), f.b...))
			}
		case 10:
			if err = f.want(wireBytes, "tensors"); err == nil {
				var t *Tensor
				t, err = decodeTensor(f.b)
				if err != nil {
					return fmt.Errorf("tensors[%d]: %w", len(a.Tensors), err)
				}
				a.Tensors = append(a.Tensors, t)
			}
		case 11:
			if err = f.want(wireBytes, "graphs"); err == nil {
				var g *Graph
				g, err = decodeGraph(f.b, depth+1)
				if err != nil {
					return fmt.Errorf("graphs[%d]: %w", len(a.Graphs), err)
				}
				a.Graphs = append(a.Graphs, g)
			}
		}
		return err
	})
	if err != nil {
		if a.Name != "" {
			return nil, fmt.Errorf("%q: %w", a.Name, err)
		}
		return nil, err
	}
	if !typeSet {
		// IR version 1 files omit the type; infer it from the member set.
		switch {
		case a.G != nil:
			a.Type = AttrGraph
		case a.T != nil:
			a.Type = AttrTensor
		case a.S != nil:
			a.Type = AttrString
		case a.Floats != nil:
			a.Type = AttrFloats
		case a.Ints != nil:
			a.Type = AttrInts
		case a.Strings != nil:
			a.Type = AttrStrings
		case a.Tensors != nil:
			a.Type = AttrTensors
		case a.Graphs != nil:
			a.Type = AttrGraphs
		}
	}
	return a, nil
}

func decodeValueInfo(b []byte) (ValueInfo, error) {
	var v ValueInfo
	err := eachField(b, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			v.Name, err = f.str("name")
		case 2:
			if err = f.want(wireBytes, "type"); err != nil {
				return err
			}
			err = decodeTypeProto(f.b, &v)
			if err != nil {
				err = fmt.Errorf("type: %w", err)
			}
		case 3:
			v.DocString, err = f.str("doc_string")
		}
		return err
	})
	if err != nil && v.Name != "" {
		return v, fmt.Errorf("%q: %w", v.Name, err)
	}
	return v, err
}

// decodeTypeProto reads the tensor_type member of a TypeProto; sequence, map
// and optional types leave ElemType undefined.
func decodeTypeProto(b []byte, v *ValueInfo) error {
	return eachField(b, func(f *field) error {
		if f.num != 1 {
			return nil
		}
		if err := f.want(wireBytes, "tensor_type"); err != nil {
			return err
		}
		return eachField(f.b, func(g *field) error {
			switch g.num {
			case 1:
				t, err := g.int32("elem_type")
				v.ElemType = DataType(t)
				return err
			case 2:
				if err := g.want(wireBytes, "shape"); err != nil {
					return err
				}
				v.Shape = []Dim{}
				return eachField(g.b, func(h *field) error {
					if h.num != 1 {
						return nil
					}
					if err := h.want(wireBytes, "dim"); err != nil {
						return err
					}
					var d Dim
					err := eachField(h.b, func(k *field) error {
						var err error
						switch k.num {
						case 1:
							d.Value, err = k.int64("dim_value")
							d.Known = true
						case 2:
							d.Param, err = k.str("dim_param")
						}
						return err
					})
					if err != nil {
						return fmt.Errorf("shape.dim[%d]: %w", len(v.Shape), err)
					}
					v.Shape = append(v.Shape, d)
					return nil
				})
			}
			return nil
		})
	})
}
