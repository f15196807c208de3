package onnx_test

import (
	"fmt"
	"os"

	"github.com/rlx-go/rlx/format/onnx"
)

// List the operators of an ONNX file, subgraphs included.
func ExampleGraph_Walk() {
	m, err := onnx.ReadFile("model.onnx")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	count := map[string]int{}
	m.Graph.Walk(func(path string, n *onnx.Node) error {
		count[n.OpType]++
		return nil
	})
	fmt.Println(count)
}
