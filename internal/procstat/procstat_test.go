package procstat

import (
	"errors"
	"io/fs"
	"runtime"
	"strings"
	"testing"
)

const status = `Name:	rlx.test
VmPeak:	 1234568 kB
VmHWM:	   40960 kB
RssFile:	    2048 kB
Threads:	5
Broken:	12x kB
`

func TestParse(t *testing.T) {
	for field, want := range map[string]int64{"VmHWM": 40960 << 10, "RssFile": 2048 << 10, "VmPeak": 1234568 << 10} {
		got, err := parse(strings.NewReader(status), field)
		if err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", field, got, err, want)
		}
	}
	if _, err := parse(strings.NewReader(status), "RssShmem"); !errors.Is(err, ErrNoField) || !strings.Contains(err.Error(), "RssShmem") {
		t.Errorf("missing field: err = %v", err)
	}
	if _, err := parse(strings.NewReader(status), "Broken"); err == nil || errors.Is(err, ErrNoField) || !strings.Contains(err.Error(), "Broken") {
		t.Errorf("malformed value: err = %v", err)
	}
	// A field whose name is a prefix of another's is not confused with it.
	if _, err := parse(strings.NewReader(status), "Vm"); !errors.Is(err, ErrNoField) {
		t.Errorf("prefix of a field name: err = %v", err)
	}
}

func TestBytes(t *testing.T) {
	n, err := Bytes("VmRSS")
	if runtime.GOOS != "linux" {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("without /proc: err = %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	// This test binary has at least its own megabyte of code resident.
	if n < 1<<20 {
		t.Errorf("VmRSS = %d bytes", n)
	}
}
