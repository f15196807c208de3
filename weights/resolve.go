package weights

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/format/safetensors"
)

// DefaultPrefer is the GGUF quantization chosen from a folder of several
// when nothing else is asked for.
const DefaultPrefer = "Q4_K_M"

// Options steer Resolve and Open.
type Options struct {
	// Prefer picks among several GGUF models in a folder by quantization
	// name ("Q4_K_M", "Q8_0", "F16"), matched against file names and then
	// general.file_type. Empty means DefaultPrefer, with a fallback to the
	// first candidate when nothing matches; a Prefer that was set must match.
	Prefer string
	// GGUFIndex, when ≥ 0, picks the candidate at that position (0-based)
	// of Resolved.Candidates instead.
	GGUFIndex int
	// Names, when set, lets Map.Tensor find tensors by their other name
	// (Hugging Face ↔ GGUF).
	Names *Names
}

// Option sets one of the Options.
type Option func(*Options)

// Prefer selects a GGUF quantization by name (see Options.Prefer).
func Prefer(q string) Option { return func(o *Options) { o.Prefer = q } }

// GGUFIndex selects a GGUF candidate by position (see Options.GGUFIndex).
func GGUFIndex(i int) Option { return func(o *Options) { o.GGUFIndex = i } }

// WithNames installs a Hugging Face ↔ GGUF name mapping (see Options.Names).
func WithNames(n *Names) Option { return func(o *Options) { o.Names = n } }

func options(opts []Option) Options {
	o := Options{GGUFIndex: -1}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Resolved says which files a path stands for.
type Resolved struct {
	Path   string // as given
	Format Format
	// Files are the files to open: one file, the parts of a split GGUF in
	// order, or the shards of a safetensors checkpoint.
	Files []string
	// ConfigPath is config.json beside safetensors files ("" when absent).
	ConfigPath string
	// IndexPath is model.safetensors.index.json for sharded checkpoints.
	IndexPath string
	// Candidates lists, for a folder holding several GGUF models, the first
	// file of each (sorted); Chosen is the index of the one taken.
	Candidates []string
	Chosen     int
	// Reason says how the choice among candidates was made.
	Reason string
}

// Resolve works out which files path stands for: a .gguf or .safetensors
// file (split GGUF parts and safetensors index files bring their siblings),
// or a folder holding a safetensors checkpoint, one GGUF model, or several
// GGUF models to choose from (Options.Prefer, Options.GGUFIndex).
// Projector files (mmproj*.gguf) are not models and are skipped.
func Resolve(path string, opts ...Option) (*Resolved, error) {
	o := options(opts)
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	if !st.IsDir() {
		return resolveFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	var ggufs, sts []string
	hasIndex := false
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		n := e.Name()
		switch {
		case n == safetensors.IndexName:
			hasIndex = true
		case strings.HasSuffix(strings.ToLower(n), ".gguf") && !strings.HasPrefix(strings.ToLower(n), "mmproj"):
			ggufs = append(ggufs, filepath.Join(path, n))
		case strings.HasSuffix(strings.ToLower(n), ".safetensors"):
			sts = append(sts, filepath.Join(path, n))
		}
	}
	wantGGUF := o.GGUFIndex >= 0 || o.Prefer != ""
	switch {
	case len(ggufs) > 0 && (wantGGUF || (len(sts) == 0 && !hasIndex)):
		return resolveGGUFDir(path, ggufs, o)
	case hasIndex:
		return resolveIndex(filepath.Join(path, safetensors.IndexName))
	case len(sts) > 0:
		slices.Sort(sts)
		// Folders may hold other safetensors beside the model (Mistral's
		// consolidated.safetensors, adapters): model.safetensors wins.
		if single := filepath.Join(path, "model.safetensors"); slices.Contains(sts, single) {
			sts = []string{single}
		}
		r := &Resolved{Path: path, Format: Safetensors, Files: sts}
		r.ConfigPath = configBeside(path)
		return r, nil
	}
	return nil, &Error{Path: path, Err: errors.New("no .gguf or .safetensors files in this folder")}
}

func configBeside(dir string) string {
	p := filepath.Join(dir, "config.json")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

func resolveFile(path string) (*Resolved, error) {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".safetensors.index.json"):
		return resolveIndex(path)
	case strings.HasSuffix(lower, ".gguf"):
		return resolveGGUFFile(path)
	case strings.HasSuffix(lower, ".safetensors"):
		return &Resolved{Path: path, Format: Safetensors, Files: []string{path}, ConfigPath: configBeside(filepath.Dir(path))}, nil
	}
	// Unusual extension: sniff the first bytes.
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	var head [9]byte
	n, _ := f.Read(head[:])
	f.Close()
	switch {
	case n >= 4 && string(head[:4]) == gguf.Magic:
		return resolveGGUFFile(path)
	case n == 9 && head[8] == '{' && head[5] == 0 && head[6] == 0 && head[7] == 0:
		return &Resolved{Path: path, Format: Safetensors, Files: []string{path}, ConfigPath: configBeside(filepath.Dir(path))}, nil
	}
	return nil, &Error{Path: path, Err: errors.New("neither GGUF nor safetensors (by extension or content)")}
}

func resolveGGUFFile(path string) (*Resolved, error) {
	parts, missing := gguf.SplitParts(path)
	if len(missing) > 0 {
		return nil, &Error{Path: path, Err: fmt.Errorf("%w: %s", gguf.ErrMissingParts, strings.Join(missing, ", "))}
	}
	return &Resolved{Path: path, Format: GGUF, Files: parts}, nil
}

func resolveIndex(index string) (*Resolved, error) {
	ix, err := safetensors.ReadIndex(index)
	if err != nil {
		return nil, err
	}
	files := ix.Files()
	var missing []string
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, filepath.Base(f))
		}
	}
	if len(missing) > 0 {
		return nil, &Error{Path: index, Err: fmt.Errorf("shards missing: %s", strings.Join(missing, ", "))}
	}
	dir := filepath.Dir(index)
	return &Resolved{Path: index, Format: Safetensors, Files: files, IndexPath: index, ConfigPath: configBeside(dir)}, nil
}

// resolveGGUFDir groups split parts into one candidate per model and picks one.
func resolveGGUFDir(dir string, files []string, o Options) (*Resolved, error) {
	slices.Sort(files)
	var cands []string
	seen := map[string]bool{}
	for _, f := range files {
		parts, _ := gguf.SplitParts(f)
		if seen[parts[0]] {
			continue
		}
		seen[parts[0]] = true
		cands = append(cands, parts[0])
	}
	pick := func(i int, reason string) (*Resolved, error) {
		r, err := resolveGGUFFile(cands[i])
		if err != nil {
			return nil, err
		}
		r.Path, r.Candidates, r.Chosen, r.Reason = dir, cands, i, reason
		return r, nil
	}
	if len(cands) == 1 {
		return pick(0, "the only GGUF model in the folder")
	}
	if o.GGUFIndex >= 0 {
		if o.GGUFIndex >= len(cands) {
			return nil, &Error{Path: dir, Err: fmt.Errorf("GGUF index %d out of range: %d candidates (%s)", o.GGUFIndex, len(cands), baseNames(cands))}
		}
		return pick(o.GGUFIndex, fmt.Sprintf("GGUF index %d", o.GGUFIndex))
	}
	prefer := o.Prefer
	if prefer == "" {
		prefer = DefaultPrefer
	}
	for i, c := range cands {
		if nameHasQuant(filepath.Base(c), prefer) {
			return pick(i, fmt.Sprintf("file name matches %s", prefer))
		}
	}
	if want, ok := gguf.ParseFileType(prefer); ok {
		for i, c := range cands {
			if ft, ok := fileType(c); ok && ft == want {
				return pick(i, fmt.Sprintf("general.file_type is %s", prefer))
			}
		}
	}
	if o.Prefer != "" {
		return nil, &Error{Path: dir, Err: fmt.Errorf("no GGUF model matches %s among %s; use another preference or a GGUF index", prefer, describe(cands))}
	}
	return pick(0, fmt.Sprintf("nothing matches %s; took the first of %d (choose with a preference or a GGUF index)", prefer, len(cands)))
}

// nameHasQuant reports whether the quantization name q appears in a file
// name as a whole token: "Model-Q4_K_M.gguf" has Q4_K_M but not Q4_K.
func nameHasQuant(name, q string) bool {
	name = strings.TrimSuffix(strings.ToUpper(name), ".GGUF")
	for _, tok := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '.' || r == ' ' }) {
		if tok == strings.ToUpper(q) {
			return true
		}
	}
	return false
}

func fileType(path string) (gguf.FileType, bool) {
	f, err := gguf.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return f.Metadata.FileType()
}

func baseNames(paths []string) string {
	b := make([]string, len(paths))
	for i, p := range paths {
		b[i] = filepath.Base(p)
	}
	return strings.Join(b, ", ")
}

func describe(cands []string) string {
	var b []string
	for i, c := range cands {
		s := fmt.Sprintf("[%d] %s", i, filepath.Base(c))
		if ft, ok := fileType(c); ok {
			s += " (" + ft.String() + ")"
		}
		b = append(b, s)
	}
	return strings.Join(b, ", ")
}
