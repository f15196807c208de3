package cublaslt

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/internal/dl"
)

// TestCandidates: RLX_CUBLASLT is tried first, then the versioned names on
// the linker's path and under CUDA_HOME.
func TestCandidates(t *testing.T) {
	t.Setenv("RLX_CUBLASLT", "/opt/nv/libcublasLt.so.12.8")
	t.Setenv("CUDA_HOME", "/opt/cuda")
	c := candidates()
	if c[0] != "/opt/nv/libcublasLt.so.12.8" {
		t.Fatalf("RLX_CUBLASLT is not the first candidate: %q", c)
	}
	for _, want := range []string{"libcublasLt.so.12", "libcublasLt.so.13", "/opt/cuda/lib64/libcublasLt.so.12"} {
		if !slices.Contains(c, want) {
			t.Errorf("candidates lack %s: %q", want, c)
		}
	}
}

func TestMissingLibraryIsClear(t *testing.T) {
	err := Load()
	if err == nil {
		t.Skip("cuBLASLt is present")
	}
	switch {
	case !dl.Has16:
		if !strings.Contains(err.Error(), "linux/amd64") {
			t.Fatalf("Load error %q does not name the platform it needs", err)
		}
	case !errors.Is(err, ErrNotFound) && !errors.Is(err, dl.ErrUnsupportedOS):
		t.Fatalf("Load error %q does not say cuBLASLt is missing", err)
	}
	if _, err := Version(); err == nil {
		t.Fatal("Version succeeded without cuBLASLt")
	}
	t.Logf("without cuBLASLt: %v", err)
}
