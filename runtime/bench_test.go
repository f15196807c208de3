package runtime_test

import (
	"context"
	"testing"

	"github.com/rlx-go/rlx/runtime"
)

// BenchmarkDecodeStep is one token through the tiny Qwen3 fixture: on a
// model this small it measures the runtime's per-token overhead (graph
// launch, cache bookkeeping, logits copy) rather than the kernels.
func BenchmarkDecodeStep(b *testing.B) {
	lm := newLM(b, runtime.Options{MaxSeq: 1 << 12})
	s, err := lm.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, prompt); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if s.Len() == 1<<12 {
			s.Truncate(len(prompt))
		}
		if _, err := s.Append(ctx, []int32{7}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrefill128 is a 128-token prompt through the same model.
func BenchmarkPrefill128(b *testing.B) {
	lm := newLM(b, runtime.Options{MaxSeq: 256})
	ids := make([]int32, 128)
	for i := range ids {
		ids[i] = int32(4 + i*3%500)
	}
	s, _ := lm.NewSession()
	defer s.Close()
	ctx := context.Background()
	for b.Loop() {
		s.Reset()
		if _, err := s.Append(ctx, ids); err != nil {
			b.Fatal(err)
		}
	}
}
