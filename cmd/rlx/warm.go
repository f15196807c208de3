package main

import (
	"io"
	"os"

	"github.com/rlx-go/rlx/internal/progress"
	"github.com/rlx-go/rlx/weights"
)

// warmWeights reads the files behind path once, with a progress bar on
// stderr, so that a cold checkpoint's disk reads show progress instead of a
// silent pause inside the load. Only on a terminal: piped or scripted runs
// skip it and read the pages as the model touches them. Errors are left for
// the load itself to report.
func warmWeights(path string, stderr io.Writer) {
	bar := progress.New(stderr, "reading weights")
	if bar == nil {
		return
	}
	defer bar.Finish()
	r, err := weights.Resolve(path)
	if err != nil {
		return
	}
	var total, done int64
	for _, f := range r.Files {
		if fi, err := os.Stat(f); err == nil {
			total += fi.Size()
		}
	}
	buf := make([]byte, 4<<20)
	for _, name := range r.Files {
		f, err := os.Open(name)
		if err != nil {
			return
		}
		for {
			n, err := f.Read(buf)
			done += int64(n)
			bar.Set(done, total)
			if err != nil {
				break
			}
		}
		f.Close()
	}
}
