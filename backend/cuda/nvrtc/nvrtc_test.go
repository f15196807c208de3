package nvrtc

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func load(t *testing.T) {
	t.Helper()
	if err := Load(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	major, minor, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("NVRTC %d.%d from %s", major, minor, Path())
}

const saxpy = `extern "C" __global__ void saxpy(float a, const float* x, float* y, int n) {
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) y[i] += a * x[i];
}`

func TestMissingLibraryIsClear(t *testing.T) {
	err := Load()
	if err == nil {
		t.Skip("NVRTC is present")
	}
	if !errors.Is(err, ErrNotFound) && err.Error() != "CUDA is only supported on linux" {
		t.Fatalf("Load error %q does not say NVRTC is missing", err)
	}
	if _, err := Compile(saxpy, "saxpy.cu", Options{Arch: "sm_80"}); err == nil {
		t.Fatal("Compile succeeded without NVRTC")
	}
}

func TestCompile(t *testing.T) {
	load(t)
	ptx, err := Compile(saxpy, "saxpy.cu", Options{Arch: "compute_80"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ptx, []byte(".entry saxpy")) || ptx[len(ptx)-1] != 0 {
		t.Fatalf("PTX lacks the entry or the NUL:\n%.400s", ptx)
	}
	cubin, err := Compile(saxpy, "saxpy.cu", Options{Arch: "sm_80"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(cubin, []byte("\x7fELF")) {
		t.Fatalf("CUBIN is not an ELF image: % x", cubin[:min(16, len(cubin))])
	}
	if _, err := Compile(saxpy, "saxpy.cu", Options{Arch: "80"}); err == nil {
		t.Fatal("a bare arch number was accepted")
	}
}

func TestCompileErrorHasLog(t *testing.T) {
	load(t)
	_, err := Compile("extern \"C\" __global__ void k() { undeclared_thing = 1; }", "broken.cu", Options{Arch: "compute_80"})
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a CompileError", err)
	}
	if !strings.Contains(err.Error(), "undeclared_thing") || !strings.Contains(err.Error(), "broken.cu") {
		t.Fatalf("error lacks the log or the file name:\n%v", err)
	}
}

func TestCache(t *testing.T) {
	load(t)
	t.Setenv("RLX_CUDA_CACHE", t.TempDir())
	opts := Options{Arch: "sm_80", Flags: []string{"-default-device"}}
	a, hit, err := CompileCached(saxpy, "saxpy.cu", opts, 12040)
	if err != nil || hit {
		t.Fatalf("first compile: hit=%v err=%v", hit, err)
	}
	b, hit, err := CompileCached(saxpy, "saxpy.cu", opts, 12040)
	if err != nil || !hit || !bytes.Equal(a, b) {
		t.Fatalf("second compile: hit=%v err=%v same=%v", hit, err, bytes.Equal(a, b))
	}
	k0, _ := CacheKey(saxpy, "saxpy.cu", opts, 12040)
	for name, k := range map[string][4]any{
		"source": {saxpy + " ", "saxpy.cu", opts, 12040},
		"arch":   {saxpy, "saxpy.cu", Options{Arch: "sm_90", Flags: opts.Flags}, 12040},
		"flags":  {saxpy, "saxpy.cu", Options{Arch: "sm_80"}, 12040},
		"driver": {saxpy, "saxpy.cu", opts, 12050},
	} {
		k1, err := CacheKey(k[0].(string), k[1].(string), k[2].(Options), k[3].(int))
		if err != nil {
			t.Fatal(err)
		}
		if k1 == k0 {
			t.Errorf("changing the %s keeps the cache key", name)
		}
	}
}

// TestCandidates: RLX_NVRTC is tried first, then the versioned names on the
// linker's path and under CUDA_HOME.
func TestCandidates(t *testing.T) {
	t.Setenv("RLX_NVRTC", "/opt/nv/libnvrtc.so.12.8")
	t.Setenv("CUDA_HOME", "/opt/cuda")
	c := candidates()
	if c[0] != "/opt/nv/libnvrtc.so.12.8" {
		t.Fatalf("RLX_NVRTC is not the first candidate: %q", c)
	}
	for _, want := range []string{"libnvrtc.so.12", "libnvrtc.so.13", "/opt/cuda/lib64/libnvrtc.so.12"} {
		if !slices.Contains(c, want) {
			t.Errorf("candidates lack %s: %q", want, c)
		}
	}
}
