package dl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestToolkitCandidatesOrder(t *testing.T) {
	t.Setenv("RLX_TEST_LIB", "/opt/mine/libfoo.so.7")
	t.Setenv("CUDA_HOME", "/home/cuda")
	t.Setenv("CUDA_PATH", "/path/cuda")
	got := ToolkitCandidates("RLX_TEST_LIB", "libfoo.so", "libfoo.so.1")
	want := []string{
		"/opt/mine/libfoo.so.7",
		"libfoo.so", "libfoo.so.1",
		"/home/cuda/lib64/libfoo.so", "/home/cuda/lib64/libfoo.so.1",
		"/home/cuda/lib/libfoo.so", "/home/cuda/lib/libfoo.so.1",
		"/path/cuda/lib64/libfoo.so", "/path/cuda/lib64/libfoo.so.1",
		"/usr/local/cuda/lib64/libfoo.so", "/usr/local/cuda/lib64/libfoo.so.1",
		"/usr/local/cuda/targets/x86_64-linux/lib/libfoo.so", "/usr/local/cuda/targets/x86_64-linux/lib/libfoo.so.1",
		"/usr/local/cuda/targets/sbsa-linux/lib/libfoo.so", "/usr/local/cuda/targets/sbsa-linux/lib/libfoo.so.1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("candidates\n%q\nwant\n%q", got, want)
	}
}

// TestToolkitCandidatesWithoutEnvironment: unset (or empty) variables add
// no candidates, so no empty name or relative "lib64/..." path is tried.
func TestToolkitCandidatesWithoutEnvironment(t *testing.T) {
	t.Setenv("RLX_TEST_LIB", "")
	t.Setenv("CUDA_HOME", "")
	t.Setenv("CUDA_PATH", "")
	got := ToolkitCandidates("RLX_TEST_LIB", "libfoo.so")
	want := []string{"libfoo.so", "/usr/local/cuda/lib64/libfoo.so",
		"/usr/local/cuda/targets/x86_64-linux/lib/libfoo.so", "/usr/local/cuda/targets/sbsa-linux/lib/libfoo.so"}
	if !slices.Equal(got, want) {
		t.Fatalf("candidates %q, want %q", got, want)
	}
}

var errNoFoo = errors.New("no libfoo found (set RLX_FOO)")

// TestBindNoLibrary: when no candidate opens, the error is the caller's
// NotFound and names every candidate tried, so that the user sees where
// the library was looked for.
func TestBindNoLibrary(t *testing.T) {
	cands := []string{"librlx-no-such-library.so", "/nonexistent/librlx-no-such-library.so.3"}
	path, fns, err := Bind(Library{Candidates: cands, Required: []string{"foo"}, NotFound: errNoFoo})
	if err == nil {
		t.Fatalf("Bind opened %s", path)
	}
	if path != "" || fns != nil {
		t.Fatalf("failed Bind returned %q and %v", path, fns)
	}
	if errors.Is(err, ErrUnsupportedOS) {
		return // nothing opens here; the error says why
	}
	if !errors.Is(err, errNoFoo) {
		t.Fatalf("error %q does not wrap NotFound", err)
	}
	for _, c := range cands {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error %q does not name candidate %s", err, c)
		}
	}
}

// libc opens the C library as a stand-in for a CUDA library, or skips.
func libc(t *testing.T) string {
	t.Helper()
	if _, err := Open("libc.so.6"); err != nil {
		t.Skipf("no libc: %v", err)
	}
	return "libc.so.6"
}

func TestBindMissingRequired(t *testing.T) {
	c := libc(t)
	_, _, err := Bind(Library{Candidates: []string{c}, Required: []string{"strlen", "rlx_no_such_function"},
		NotFound: errNoFoo, OldRelease: "libfoo too old?"})
	if !errors.Is(err, errNoFoo) {
		t.Fatalf("error %v does not wrap NotFound", err)
	}
	for _, s := range []string{"rlx_no_such_function", "libfoo too old?", c} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

func TestBindOptional(t *testing.T) {
	c := libc(t)
	path, fns, err := Bind(Library{Candidates: []string{"librlx-no-such-library.so", c},
		Required: []string{"strlen"}, Optional: []string{"snprintf", "rlx_no_such_function"}, NotFound: errNoFoo})
	if err != nil {
		t.Fatal(err)
	}
	if path != c {
		t.Errorf("path %q, want the candidate that opened, %q", path, c)
	}
	if fns["strlen"] == 0 || fns["snprintf"] == 0 {
		t.Errorf("entry points missing: %v", fns)
	}
	if _, ok := fns["rlx_no_such_function"]; ok || len(fns) != 2 {
		t.Errorf("a missing optional entry point is in the table: %v", fns)
	}
	if n := Call(fns["strlen"], uintptr(unsafePtr(CString("seven!!")))); n != 7 {
		t.Errorf("strlen through the table = %d, want 7", n)
	}
}
