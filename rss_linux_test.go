//go:build linux && !purego

package rlx_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlx-go/rlx"
	"github.com/rlx-go/rlx/internal/procstat"
	"github.com/rlx-go/rlx/synth"
)

// rssFile is this process's resident file-backed memory in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	n, err := procstat.Bytes("RssFile")
	if err != nil {
		t.Skip(err)
	}
	return n
}

// TestRepackedWeightsLeaveTheFile loads a Q8_0 model of about 40 MB: the
// CPU kernels repack every matrix (reading all of the file) into their own
// layout, so once OpenLM returns the file's pages must no longer be
// resident beside the copies (weights.Release after each weight is packed).
func TestRepackedWeightsLeaveTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 40 MB model")
	}
	path := writeQ8Model(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before := rssFile(t)
	lm, err := rlx.OpenLM(path, rlx.WithMaxSeq(64), rlx.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	if _, err := lm.GenerateIDs(context.Background(), []int32{1, 2, 3}, rlx.MaxTokens(2), rlx.Greedy()); err != nil {
		t.Fatal(err)
	}
	grew := rssFile(t) - before
	t.Logf("file %d bytes; resident file memory grew by %d bytes", st.Size(), grew)
	if grew > st.Size()/4 {
		t.Errorf("%d of the file's %d bytes stay resident after its weights were repacked", grew, st.Size())
	}
}

// writeQ8Model writes a Qwen3-shaped Q8_0 model of about 40 MB (an 8192 ×
// 1024 token embedding, tied to the output) and returns its path.
func writeQ8Model(t *testing.T) string {
	t.Helper()
	spec, err := synth.Preset("qwen3", "tiny")
	if err != nil {
		t.Fatal(err)
	}
	spec.Hidden, spec.FFN, spec.Vocab, spec.Heads, spec.KVHeads, spec.HeadDim = 1024, 4096, 8192, 8, 4, 128
	ft, err := synth.FileType("Q8_0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := synth.Write(context.Background(), path, spec, synth.Options{Type: ft, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGatheredRowsLeaveTheFile: the token embedding is read in place from
// the mapped file, one row (1088 bytes) per token, and a fault maps more of
// the file than the page it needs (fault-around, large page-cache folios).
// The CPU backend's gather releases the pages it read, so 32 tokens spread
// over the vocabulary must not leave their pages resident.
func TestGatheredRowsLeaveTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 40 MB model")
	}
	lm, err := rlx.OpenLM(writeQ8Model(t), rlx.WithMaxSeq(256), rlx.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	ctx := context.Background()
	ids := make([]int32, 32)
	for i := range ids {
		ids[i] = int32(i*256 + 5) // 256 rows (272 KiB) apart
	}
	// A first run of the same length faults in the code that the second
	// runs (prefill kernels), so that only the table's pages can grow.
	if _, err := lm.GenerateIDs(ctx, ids, rlx.MaxTokens(2), rlx.Greedy()); err != nil {
		t.Fatal(err)
	}
	for i := range ids {
		ids[i] += 128
	}
	before := rssFile(t)
	if _, err := lm.GenerateIDs(ctx, ids, rlx.MaxTokens(2), rlx.Greedy()); err != nil {
		t.Fatal(err)
	}
	grew := rssFile(t) - before
	t.Logf("resident file memory grew by %d KiB after gathering %d rows", grew>>10, len(ids))
	// Kept, each row's fault would leave 64 KiB or more (2 MiB here).
	if limit := int64(256 << 10); grew > limit {
		t.Errorf("resident file memory grew by %d KiB after gathering %d rows, want ≤ %d KiB", grew>>10, len(ids), limit>>10)
	}
}
