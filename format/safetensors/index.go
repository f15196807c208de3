package safetensors

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// IndexName is the conventional name of a sharded checkpoint's index.
const IndexName = "model.safetensors.index.json"

// Index is a sharded checkpoint's index file: which shard holds each tensor.
type Index struct {
	Path      string
	Metadata  map[string]any    // e.g. "total_size"
	WeightMap map[string]string // tensor name → shard file name, relative to the index
}

// maxIndexSize bounds the index file read into memory.
const maxIndexSize = 256 << 20

// ReadIndex reads a model.safetensors.index.json file. Shard names must be
// plain file names beside the index (no directories, no "..").
func ReadIndex(path string) (*Index, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	if st.Size() > maxIndexSize {
		return nil, errorf(path, "", "index of %d bytes is implausibly large", st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	var raw struct {
		Metadata  map[string]any    `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, &Error{File: path, Field: "index", Err: err}
	}
	if len(raw.WeightMap) == 0 {
		return nil, errorf(path, "weight_map", "missing or empty")
	}
	for name, shard := range raw.WeightMap {
		if shard == "" || filepath.Base(shard) != shard || shard == ".." || shard == "." {
			return nil, errorf(path, fmt.Sprintf("weight_map %q", name), "shard %q is not a file name beside the index", shard)
		}
	}
	return &Index{Path: path, Metadata: raw.Metadata, WeightMap: raw.WeightMap}, nil
}

// Files returns the shard paths (joined with the index's directory), sorted
// and without repeats.
func (ix *Index) Files() []string {
	dir := filepath.Dir(ix.Path)
	var out []string
	for _, s := range ix.WeightMap {
		out = append(out, filepath.Join(dir, s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
