package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	if b := New(&buf, "x"); b != nil {
		t.Fatal("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a regular file is a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) {
		t.Fatal("a pipe is a terminal")
	}
	b := New(w, "x") // nil: every method is a no-op
	b.Set(1, 2)
	b.Finish()
}

func TestDraw(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, "load")
	b.Set(0, 4<<20)
	b.Set(1<<20, 4<<20) // within 100 ms: skipped
	b.last = time.Time{}
	b.Set(2<<20, 4<<20)
	b.Set(4<<20, 4<<20) // final: always drawn, ends the line
	b.Set(4<<20, 4<<20) // after the end: nothing
	b.Finish()
	out := buf.String()
	if n := strings.Count(out, "\r"); n != 3 {
		t.Fatalf("%d redraws, want 3: %q", n, out)
	}
	if !strings.Contains(out, " 50% 2/4 MiB") || !strings.Contains(out, "100% 4/4 MiB") {
		t.Fatalf("output %q", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want one newline: %q", out)
	}
}

func TestLine(t *testing.T) {
	b := newBar(nil, "w")
	for _, c := range []struct {
		done, total int64
		want        string
	}{
		{0, 0, "[>"},
		{5, 10, " 50%"},
		{20, 10, "100%"}, // clamped
		{-1, 10, "  0%"},
	} {
		if got := b.line(c.done, c.total, time.Second); !strings.Contains(got, c.want) || len([]rune(got)) < 30 {
			t.Errorf("line(%d, %d) = %q, want %q in it", c.done, c.total, got, c.want)
		}
	}
}
