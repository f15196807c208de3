package silero

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/rlx-go/rlx/format/safetensors"
	"github.com/rlx-go/rlx/tensor"
)

// WriteSafetensors writes params as float32 tensors, in the given order,
// with metadata, to w.
func WriteSafetensors(w io.Writer, params []Param, metadata map[string]string) error {
	infos := make([]safetensors.TensorInfo, len(params))
	for i, p := range params {
		shape := make([]int64, len(p.Shape))
		for j, d := range p.Shape {
			shape[j] = int64(d)
		}
		infos[i] = safetensors.TensorInfo{Name: p.Name, DType: tensor.F32, Shape: shape}
	}
	sw, err := safetensors.NewWriter(w, infos, metadata)
	if err != nil {
		return err
	}
	for _, p := range params {
		b := make([]byte, 4*len(p.Data))
		for i, v := range p.Data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		if err := sw.WriteTensor(p.Name, b); err != nil {
			return err
		}
	}
	return sw.Close()
}

// ReadSafetensors decodes the float32 tensors of a safetensors file held in
// data (name is used in errors) and returns them with the file's metadata.
func ReadSafetensors(name string, data []byte) ([]Param, map[string]string, error) {
	f, err := safetensors.Parse(name, data)
	if err != nil {
		return nil, nil, err
	}
	params := make([]Param, 0, len(f.Tensors))
	for _, t := range f.Tensors {
		if t.DType != tensor.F32 {
			return nil, nil, fmt.Errorf("silero: %s: tensor %q is %v, want F32", name, t.Name, t.DType)
		}
		b, err := f.Data(t)
		if err != nil {
			return nil, nil, err
		}
		p := Param{Name: t.Name, Shape: make([]int, len(t.Shape)), Data: make([]float32, len(b)/4)}
		for i, d := range t.Shape {
			p.Shape[i] = int(d)
		}
		for i := range p.Data {
			p.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		params = append(params, p)
	}
	return params, f.Metadata, nil
}
