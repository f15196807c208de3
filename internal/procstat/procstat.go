// Package procstat reads this process's memory counters from
// /proc/self/status (Linux), for the tests that check what stays resident:
// the file-backed pages a released mapping or a repacked model gives back.
package procstat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ErrNoField is wrapped by Bytes when the status file lacks the field (an
// older kernel, or a system other than Linux).
var ErrNoField = errors.New("procstat: no such field")

// Bytes returns the /proc/self/status field named field ("RssFile",
// "VmHWM", …), given there in kB, in bytes.
func Bytes(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	defer f.Close()
	return parse(f, field)
}

// parse finds "field:   N kB" in a status file.
func parse(r io.Reader, field string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: %s: %w", field, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	return 0, fmt.Errorf("%w: %s", ErrNoField, field)
}
