package rlx

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/fallback"
)

// TestCUDAGraphDecode decodes with CUDA graphs off and on: every step's
// logits must be the same bits (a replayed step runs the same kernels with
// the same arguments; the growing past is read from device memory), and
// with graphs on the steps after the second must replay a graph.
func TestCUDAGraphDecode(t *testing.T) {
	needGPU(t)
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("testdata", "gguf-lm", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref ggufLMReference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"qwen3-f32.gguf", "llama-Q4_K_M.gguf", "gemma2-f32.gguf"} {
		t.Run(file, func(t *testing.T) {
			const steps = 12
			decode := func(graphs bool) ([][]float32, cuda.GraphStats) {
				lm, err := OpenLM(filepath.Join("testdata", "gguf-lm", file), WithDevice("cuda"), WithMaxSeq(64))
				if err != nil {
					t.Fatal(err)
				}
				defer lm.Close()
				gpu := lm.be.(*fallback.Backend).Device.(*cuda.Backend)
				gpu.SetGraphs(graphs)
				s, err := lm.Runtime().NewSession()
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				l, err := s.Append(ctx, ref.Prompt)
				if err != nil {
					t.Fatal(err)
				}
				var all [][]float32
				for range steps {
					next := int32(0)
					for i, v := range l {
						if v > l[next] {
							next = int32(i)
						}
					}
					if l, err = s.Append(ctx, []int32{next}); err != nil {
						t.Fatal(err)
					}
					all = append(all, slices.Clone(l))
				}
				return all, gpu.Graphs()
			}
			plain, ps := decode(false)
			replay, gs := decode(true)
			t.Logf("graphs off: %+v; on: %+v", ps, gs)
			if ps.Replayed != 0 {
				t.Errorf("graphs off replayed %d steps", ps.Replayed)
			}
			if gs.Captured < 1 || gs.Replayed < steps-2 || gs.Failed != 0 {
				t.Errorf("graphs on: %+v, want a capture and ≥ %d replays", gs, steps-2)
			}
			for i := range plain {
				if !slices.Equal(plain[i], replay[i]) {
					t.Fatalf("step %d: replayed logits differ from plain launches (max error %.3g)", i, relErr(replay[i], plain[i]))
				}
			}
		})
	}
}
