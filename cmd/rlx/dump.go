package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/weights"
	"github.com/spf13/cobra"
)

func init() {
	var name, out, prefer string
	var ggufIndex int
	cmd := &cobra.Command{
		Use:   "dump PATH --tensor NAME -o OUT.npy",
		Short: "Write one tensor, dequantized to float32, as a NumPy .npy file",
		Long: `Dump reads one tensor from a GGUF or safetensors checkpoint (a file or a
folder, resolved as rlx inspect does), converts it to float32 — block-quantized
GGUF types are dequantized exactly as llama.cpp does — and writes it as a NumPy
.npy (format 1.0, little-endian float32) in PyTorch's shape order (outermost
dimension first: a GGUF weight with ne = [in, out] becomes (out, in)).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" || out == "" {
				return errors.New("dump: --tensor NAME and -o OUT.npy are required")
			}
			var opts []weights.Option
			if prefer != "" {
				opts = append(opts, weights.Prefer(prefer))
			}
			if ggufIndex >= 0 {
				opts = append(opts, weights.GGUFIndex(ggufIndex))
			}
			m, err := weights.Open(args[0], opts...)
			if err != nil {
				return fmt.Errorf("dump: %w", err)
			}
			defer m.Close()
			t, err := m.Tensor(name)
			if err != nil {
				return fmt.Errorf("dump: %w (rlx inspect %s lists the tensors)", err, args[0])
			}
			x, err := tensorFloat32(t)
			if err != nil {
				return fmt.Errorf("dump: %w", err)
			}
			if err := writeNPYFile(out, t.Shape, x); err != nil {
				return fmt.Errorf("dump: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s %s %v as float32\n", out, t.Name, t.TypeName, t.Shape)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "tensor", "", "tensor name as stored in the file")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output .npy file")
	cmd.Flags().StringVar(&prefer, "prefer", "", "in a folder of several GGUF files, the quantization to pick (default Q4_K_M)")
	cmd.Flags().IntVar(&ggufIndex, "gguf-index", -1, "in a folder of several GGUF files, pick the N-th (sorted by name)")
	rootCmd.AddCommand(cmd)
}

// tensorFloat32 converts any tensor rlx can read to float32.
func tensorFloat32(t weights.Tensor) ([]float32, error) {
	if !t.DType.Quantized() {
		return t.Float32()
	}
	n := t.Elements()
	if n < 0 || n > int64(len(t.Data))*int64(t.DType.BlockSize()) {
		return nil, fmt.Errorf("tensor %q: %d elements cannot fit in %d bytes", t.Name, n, len(t.Data))
	}
	x := make([]float32, n)
	if err := quant.Dequantize(t.DType, x, t.Data); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return x, nil
}

func writeNPYFile(path string, shape []int64, x []float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = writeNPY(bw, shape, x)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// writeNPY writes x as a NumPy format 1.0 array of little-endian float32
// with the given C-order shape. The header is padded with spaces so that
// the data starts at a multiple of 64 bytes, as NumPy itself does.
func writeNPY(w io.Writer, shape []int64, x []float32) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.FormatInt(d, 10)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
	const pre = 10 // magic (6) + version (2) + header length (2)
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	if total-pre > math.MaxUint16 {
		return fmt.Errorf("npy: shape %v has too many dimensions for format 1.0", shape)
	}
	hdr := make([]byte, 0, total)
	hdr = append(hdr, "\x93NUMPY\x01\x00"...)
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(total-pre))
	hdr = append(hdr, dict...)
	for len(hdr) < total-1 {
		hdr = append(hdr, ' ')
	}
	hdr = append(hdr, '\n')
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, v := range x {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}
