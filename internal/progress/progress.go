// Package progress draws a one-line progress bar on a terminal, and nothing
// when the output is a pipe or a file, so logs and scripted runs stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar is a progress bar for a byte count. The zero Bar and a nil *Bar draw
// nothing. It is safe for concurrent use.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	start time.Time
	last  time.Time
	done  bool
	width int
}

// New returns a bar drawing label on w when w is a terminal, else a bar that
// draws nothing.
func New(w io.Writer, label string) *Bar {
	if !IsTerminal(w) {
		return nil
	}
	return newBar(w, label)
}

func newBar(w io.Writer, label string) *Bar {
	return &Bar{w: w, label: label, start: time.Now(), width: 30}
}

// IsTerminal reports whether v (an *os.File: stdin, stdout, stderr) is a
// character device (a terminal), not a pipe or a regular file.
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	m := st.Mode()
	return m&os.ModeCharDevice != 0 && m&os.ModeDevice != 0
}

// Set shows done of total bytes. Redraws are limited to ten a second,
// except the last.
func (b *Bar) Set(done, total int64) {
	if b == nil || b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	now := time.Now()
	final := total > 0 && done >= total
	if !final && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	// \x1b[K clears what a longer previous line left.
	fmt.Fprint(b.w, "\r"+b.line(done, total, now.Sub(b.start))+"\x1b[K")
	if final {
		fmt.Fprintln(b.w)
		b.done = true
	}
}

// Finish ends the line if the bar has drawn something and not finished.
func (b *Bar) Finish() {
	if b == nil || b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done && !b.last.IsZero() {
		fmt.Fprintln(b.w)
	}
	b.done = true
}

// line formats "label [=====>    ]  42% 120/300 MiB 85 MiB/s".
func (b *Bar) line(done, total int64, elapsed time.Duration) string {
	frac := 0.0
	if total > 0 {
		frac = min(max(float64(done)/float64(total), 0), 1)
	}
	fill := int(frac * float64(b.width))
	bar := strings.Repeat("=", fill)
	if fill < b.width {
		bar += ">" + strings.Repeat(" ", b.width-fill-1)
	}
	rate := ""
	if s := elapsed.Seconds(); s > 0 {
		rate = fmt.Sprintf(" %.0f MiB/s", float64(done)/s/(1<<20))
	}
	return fmt.Sprintf("%s [%s] %3.0f%% %d/%d MiB%s", b.label, bar, 100*frac, done>>20, total>>20, rate)
}
