package gguf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ErrMissingParts: some files of a split GGUF are not beside the others.
var ErrMissingParts = errors.New("split GGUF parts are missing")

// splitName matches llama.cpp's split file names, "<prefix>-00001-of-00003.gguf".
var splitName = regexp.MustCompile(`^(.*)-(\d{5})-of-(\d{5})\.gguf$`)

// SplitName returns the file name of part no (1-based) of count for the
// prefix, following llama.cpp's "<prefix>-%05d-of-%05d.gguf".
func SplitName(prefix string, no, count int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.gguf", prefix, no, count)
}

// SplitParts returns the paths of every part of the split GGUF that path
// belongs to, in order, and those among them that do not exist. The part
// count comes from the file name; a name that does not follow the split
// pattern is a single file. It reads nothing but the directory.
func SplitParts(path string) (parts, missing []string) {
	dir, base := filepath.Split(path)
	m := splitName.FindStringSubmatch(base)
	if m == nil {
		return []string{path}, nil
	}
	count, _ := strconv.Atoi(m[3])
	if count < 1 {
		return []string{path}, nil
	}
	for i := 1; i <= count; i++ {
		p := filepath.Join(dir, SplitName(m[1], i, count))
		parts = append(parts, p)
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, filepath.Base(p))
		}
	}
	return parts, missing
}

// OpenSplit opens path and, when it is one part of a split GGUF
// (split.count > 1), every other part beside it, returning them in part
// order; otherwise it returns path alone. A missing part is an error
// (wrapping ErrMissingParts) that lists every missing file by name; parts
// that disagree on split.count or split.no, or share tensor names, are
// rejected. The metadata of the model is in the first part.
func OpenSplit(path string) ([]*File, error) {
	first, err := Open(path)
	if err != nil {
		return nil, err
	}
	count, _ := first.Metadata.Uint32(KeySplitCount)
	if count <= 1 {
		return []*File{first}, nil
	}
	parts, missing := SplitParts(path)
	if len(parts) == 1 {
		first.Close()
		return nil, &Error{File: path, Field: KeySplitCount, Offset: -1,
			Err: fmt.Errorf("file says it is one of %d parts, but its name does not follow <name>-00001-of-%05d.gguf", count, count)}
	}
	if len(parts) != int(count) {
		first.Close()
		return nil, &Error{File: path, Field: KeySplitCount, Offset: -1,
			Err: fmt.Errorf("file says %d parts, its name says %d", count, len(parts))}
	}
	if len(missing) > 0 {
		first.Close()
		return nil, &Error{File: path, Field: KeySplitCount, Offset: -1,
			Err: fmt.Errorf("%w: %s not found beside %s", ErrMissingParts, strings.Join(missing, ", "), filepath.Base(path))}
	}
	files := make([]*File, len(parts))
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}
	seen := map[string]string{}
	total := 0
	for i, p := range parts {
		var f *File
		if filepath.Clean(p) == filepath.Clean(path) {
			f, first = first, nil
		} else if f, err = Open(p); err != nil {
			closeAll()
			if first != nil {
				first.Close()
			}
			return nil, err
		}
		files[i] = f
		no, okNo := f.Metadata.Uint32(KeySplitNo)
		c, okC := f.Metadata.Uint32(KeySplitCount)
		if !okNo || !okC || c != count || int(no) != i {
			closeAll()
			if first != nil {
				first.Close()
			}
			return nil, &Error{File: p, Field: KeySplitNo, Offset: -1,
				Err: fmt.Errorf("expected part %d of %d, file says split.no=%d (%v) split.count=%d (%v)", i, count, no, okNo, c, okC)}
		}
		for _, t := range f.Tensors {
			if other, dup := seen[t.Name]; dup {
				closeAll()
				return nil, &Error{File: p, Field: "tensor " + strconv.Quote(t.Name), Offset: -1,
					Err: fmt.Errorf("also in %s", filepath.Base(other))}
			}
			seen[t.Name] = p
		}
		total += len(f.Tensors)
	}
	if want, ok := files[0].Metadata.Int(KeySplitTensors); ok && want != total {
		closeAll()
		return nil, &Error{File: path, Field: KeySplitTensors, Offset: -1,
			Err: fmt.Errorf("parts hold %d tensors, the first part announces %d", total, want)}
	}
	return files, nil
}
