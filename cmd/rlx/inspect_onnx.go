package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rlx-go/rlx/format/onnx"
	"github.com/rlx-go/rlx/models/silero"
)

// ONNX files join `rlx inspect`: graph inputs and outputs, operator counts
// (subgraphs included), initializers and the tensors held in Constant nodes,
// and whether rlx recognises the model.
func init() {
	registerInspector(inspector{
		Name:    "onnx",
		Match:   func(path string) bool { return strings.EqualFold(filepath.Ext(path), ".onnx") },
		Inspect: inspectONNX,
		Check:   checkONNX,
	})
}

// checkONNX is `rlx check` for ONNX files: SUPPORTED when the graph is one
// rlx imports (Silero VAD v5), Unknown otherwise.
func checkONNX(path string, _ inspectOptions) (checkResult, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return checkResult{}, err
	}
	c := checkResult{Format: "onnx"}
	if _, err := silero.FromONNX(m); err != nil {
		c.Detail = err.Error()
		return verdict(c, statusUnknown), nil
	}
	c.Family, c.Kind, c.Architecture = "silero-vad", "VAD", "silero-vad-v5"
	c.Detail = "runs with the silero-vad family (VAD): `rlx vad` uses the built-in weights, `rlx convert` extracts these"
	return verdict(c, statusSupported), nil
}

// onnxMinConstant is the size from which a Constant node's tensor is listed
// as a weight (smaller ones are shapes, axes and scalars).
const onnxMinConstant = 16

func inspectONNX(path string, _ inspectOptions) (*inspectReport, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &inspectReport{
		Format:   "onnx",
		Files:    []string{path},
		DTypes:   map[string]int{},
		Metadata: map[string]any{},
	}
	set := func(k string, v any) {
		r.Metadata[k] = v
		r.metadataOrder = append(r.metadataOrder, k)
	}
	set("ir_version", m.IRVersion)
	set("producer", strings.TrimSpace(m.ProducerName+" "+m.ProducerVersion))
	var opsets []string
	for _, o := range m.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s v%d", d, o.Version))
	}
	set("opsets", opsets)
	for _, kv := range m.Metadata {
		set("metadata."+kv.Key, kv.Value)
	}
	io := func(vs []onnx.ValueInfo) []string {
		var out []string
		for _, v := range vs {
			var dims []string
			for _, d := range v.Shape {
				dims = append(dims, d.String())
			}
			out = append(out, fmt.Sprintf("%s %s[%s]", v.Name, v.ElemType, strings.Join(dims, ", ")))
		}
		return out
	}
	set("inputs", io(m.Graph.Inputs))
	set("outputs", io(m.Graph.Outputs))

	ops := map[string]int{}
	addTensor := func(name string, t *onnx.Tensor) {
		r.TensorCount++
		r.DTypes[t.DataType.String()]++
		r.Tensors = append(r.Tensors, inspectTensor{Name: name, Type: t.DataType.String(), Shape: slices.Clone(t.Dims)})
		if t.External {
			r.Notes = append(r.Notes, "tensor "+name+" keeps its data in an external file")
		}
	}
	for _, t := range m.Graph.Initializers {
		addTensor(t.Name, t)
	}
	nodes := 0
	m.Graph.Walk(func(_ string, n *onnx.Node) error {
		nodes++
		ops[n.OpType]++
		if n.OpType == "Constant" && len(n.Outputs) == 1 {
			if a := n.Attr("value"); a != nil && a.T != nil {
				if c, err := a.T.NumElements(); err == nil && c >= onnxMinConstant {
					addTensor(n.Outputs[0], a.T)
				}
			}
		}
		return nil
	})
	var opList []string
	for _, op := range slices.Sorted(mapKeysInt(ops)) {
		opList = append(opList, fmt.Sprintf("%s×%d", op, ops[op]))
	}
	set("nodes", nodes)
	set("operators", strings.Join(opList, " "))

	if _, err := silero.FromONNX(m); err == nil {
		r.Architecture = "silero-vad-v5"
		r.Check = statusSupported
		r.Runner = "silero-vad (VAD): `rlx convert` writes its weights as safetensors; `rlx vad` runs the built-in copy"
	} else {
		r.Architecture = "unknown"
		r.Check = statusUnknown
		r.Runner = "none: rlx runs ONNX models only through families that import their weights"
		r.Notes = append(r.Notes, "not Silero VAD v5: "+err.Error())
	}
	return r, nil
}
