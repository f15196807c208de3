package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx/format/gguf"
	"github.com/rlx-go/rlx/weights"
	"github.com/spf13/cobra"
)

// inspectReport is what `rlx inspect` says about a checkpoint, whatever its
// format. Inspectors fill it; the command prints it as text or JSON.
type inspectReport struct {
	Format       string         `json:"format"`
	Files        []string       `json:"files"`
	Architecture string         `json:"architecture"`
	TensorCount  int            `json:"tensor_count"`
	DTypes       map[string]int `json:"dtypes"`
	// Metadata holds the format's key/values (GGUF metadata; config.json
	// and __metadata__ for safetensors), long arrays summarised.
	Metadata map[string]any  `json:"metadata"`
	Tensors  []inspectTensor `json:"tensors"`
	// MTP lists multi-token-prediction heads: tensors and metadata keys
	// named *nextn* or *mtp*.
	MTP []string `json:"mtp,omitempty"`
	// Split describes split GGUF parts or safetensors shards.
	Split []string `json:"split,omitempty"`
	// Candidates lists the models of a folder holding several, with the
	// chosen one marked, and why.
	Candidates []string `json:"candidates,omitempty"`
	Runner     string   `json:"runner"`
	Check      string   `json:"check"`
	Notes      []string `json:"notes,omitempty"`

	metadataOrder []string // for the text output; JSON maps are sorted
}

type inspectTensor struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Shape []int64 `json:"shape"` // outermost first
}

// inspectOptions are the flags of `rlx inspect`.
type inspectOptions struct {
	Prefer    string
	GGUFIndex int
}

// inspector handles the paths of one format. Another format joins `rlx
// inspect` by calling registerInspector from the init of its own file
// (e.g. cmd/rlx/inspect_onnx.go); registered inspectors are asked, in
// order, before the built-in one for GGUF and safetensors.
type inspector struct {
	Name string
	// Match reports whether the inspector takes path (a file or a folder).
	Match   func(path string) bool
	Inspect func(path string, opts inspectOptions) (*inspectReport, error)
	// Check, when set, gives `rlx check`'s verdict for the paths Match takes.
	Check func(path string, opts inspectOptions) (checkResult, error)
}

var inspectors []inspector

func registerInspector(in inspector) { inspectors = append(inspectors, in) }

func inspectPath(path string, opts inspectOptions) (*inspectReport, error) {
	for _, in := range inspectors {
		if in.Match(path) {
			return in.Inspect(path, opts)
		}
	}
	return inspectWeights(path, opts)
}

func weightOptions(o inspectOptions) []weights.Option {
	opts := []weights.Option{weights.GGUFIndex(o.GGUFIndex)}
	if o.Prefer != "" {
		opts = append(opts, weights.Prefer(o.Prefer))
	}
	return opts
}

// inspectWeights reports on a GGUF or safetensors checkpoint.
func inspectWeights(path string, opts inspectOptions) (*inspectReport, error) {
	m, err := weights.Open(path, weightOptions(opts)...)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	r := &inspectReport{
		Format:      string(m.Format()),
		TensorCount: m.Len(),
		DTypes:      map[string]int{},
		Metadata:    map[string]any{},
	}
	r.Files = m.Files()
	unsupported := map[string]int{}
	for _, name := range m.Names() {
		t, _ := m.Tensor(name)
		r.DTypes[t.TypeName]++
		r.Tensors = append(r.Tensors, inspectTensor{Name: name, Type: t.TypeName, Shape: t.Shape})
		if isMTPName(name) {
			r.MTP = append(r.MTP, "tensor "+name)
		}
		if !t.DType.Valid() {
			unsupported[t.TypeName]++
		}
	}
	for _, typ := range slices.Sorted(mapKeysInt(unsupported)) {
		r.Notes = append(r.Notes, fmt.Sprintf("%d tensors of type %s, which rlx cannot compute with", unsupported[typ], typ))
	}
	res := m.Resolved
	for i, c := range res.Candidates {
		mark := "  "
		if i == res.Chosen {
			mark = "* "
		}
		desc := fmt.Sprintf("%s[%d] %s", mark, i, filepath.Base(c))
		if g, err := gguf.Open(c); err == nil {
			if ft, ok := g.Metadata.FileType(); ok {
				desc += " (" + ft.String() + ")"
			}
			g.Close()
		}
		r.Candidates = append(r.Candidates, desc)
	}
	if len(res.Candidates) > 0 {
		r.Notes = append(r.Notes, "chose "+filepath.Base(res.Files[0])+": "+res.Reason)
	}

	switch m.Format() {
	case weights.GGUF:
		md := m.GGUF()
		r.Architecture = md.Arch()
		files := m.GGUFFiles()
		note := fmt.Sprintf("GGUF v%d, alignment %d", files[0].Version, files[0].Alignment)
		if ft, ok := md.FileType(); ok {
			note += fmt.Sprintf(", file type %s", ft)
		}
		r.Notes = append(r.Notes, note)
		for _, k := range md.Keys() {
			v, _ := md.Get(k)
			r.Metadata[k] = summarizeValue(v)
			r.metadataOrder = append(r.metadataOrder, k)
			if isMTPName(k) {
				r.MTP = append(r.MTP, "metadata "+k+" = "+v.Summary(4))
			}
		}
		if len(files) > 1 {
			r.Split = append(r.Split, fmt.Sprintf("split GGUF in %d parts, all present:", len(files)))
			for _, f := range files {
				r.Split = append(r.Split, fmt.Sprintf("%s (%d tensors)", filepath.Base(f.Path), len(f.Tensors)))
			}
		}
	case weights.Safetensors:
		if st := m.SafetensorsMetadata(); st != nil {
			r.Metadata["__metadata__"] = st
			r.metadataOrder = append(r.metadataOrder, "__metadata__")
		}
		if res.ConfigPath != "" {
			cfg, err := readConfig(res.ConfigPath)
			if err != nil {
				r.Notes = append(r.Notes, err.Error())
			} else {
				r.Metadata["config"] = cfg.raw
				r.metadataOrder = append(r.metadataOrder, "config")
				r.Architecture = cfg.ModelType
				for _, k := range slices.Sorted(mapKeys(cfg.raw)) {
					if isMTPName(k) {
						r.MTP = append(r.MTP, fmt.Sprintf("config %s = %v", k, cfg.raw[k]))
					}
				}
			}
		} else {
			r.Notes = append(r.Notes, "no config.json beside the weights")
		}
		if len(res.Files) > 1 {
			r.Split = append(r.Split, fmt.Sprintf("%d safetensors shards", len(res.Files)))
		}
	}
	c := checkMap(m)
	r.Check = c.String()
	r.Runner = c.runner()
	return r, nil
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// isMTPName spots multi-token-prediction heads: llama.cpp names them
// "nextn" (blk.N.nextn.*, <arch>.nextn_predict_layers), HF configs "mtp"
// or "nextn" (num_nextn_predict_layers, mtp_num_hidden_layers).
func isMTPName(s string) bool {
	l := strings.ToLower(s)
	if strings.Contains(l, "nextn") {
		return true
	}
	for _, f := range strings.FieldsFunc(l, func(r rune) bool { return r == '.' || r == '_' }) {
		if f == "mtp" {
			return true
		}
	}
	return false
}

// arraySummaryLimit: arrays longer than this are summarised.
const arraySummaryLimit = 16

// summarizeValue turns a GGUF value into JSON-friendly data, replacing a
// long array by its element type, length and first few elements.
func summarizeValue(v gguf.Value) any {
	if v.Type() != gguf.Array {
		return finite(v)
	}
	if v.Len() <= arraySummaryLimit && v.Elem() != gguf.Array {
		if v.Elem() == gguf.Float32 || v.Elem() == gguf.Float64 {
			out := make([]any, v.Len())
			for i := range out {
				out[i] = finite(v.Index(i))
			}
			return out
		}
		return v.Interface()
	}
	first := make([]any, 0, 8)
	for i := 0; i < min(8, v.Len()); i++ {
		first = append(first, summarizeValue(v.Index(i)))
	}
	return map[string]any{"type": "array[" + v.Elem().String() + "]", "length": v.Len(), "first": first}
}

// finite returns a scalar for JSON, spelling NaN and infinities as strings
// (JSON has no numbers for them).
func finite(v gguf.Value) any {
	if v.Type() == gguf.Float32 || v.Type() == gguf.Float64 {
		if f, _ := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	}
	return v.Interface()
}

func printInspect(w io.Writer, r *inspectReport, allTensors bool) {
	row := func(k, v string) { fmt.Fprintf(w, "%-13s %s\n", k, v) }
	row("format", r.Format)
	files := make([]string, len(r.Files))
	for i, f := range r.Files {
		files[i] = filepath.Base(f)
	}
	row("files", strings.Join(files, ", "))
	if len(r.Files) > 0 {
		row("folder", filepath.Dir(r.Files[0]))
	}
	arch := r.Architecture
	if arch == "" {
		arch = "(unknown)"
	}
	row("architecture", arch)
	var hist []string
	for _, t := range slices.Sorted(mapKeysInt(r.DTypes)) {
		hist = append(hist, fmt.Sprintf("%s ×%d", t, r.DTypes[t]))
	}
	row("tensors", fmt.Sprintf("%d (%s)", r.TensorCount, strings.Join(hist, ", ")))
	row("runner", r.Runner)
	row("check", r.Check)
	if len(r.MTP) == 0 {
		row("mtp", "none")
	} else {
		row("mtp", fmt.Sprintf("%d hints", len(r.MTP)))
		for _, s := range r.MTP {
			fmt.Fprintln(w, "  "+s)
		}
	}
	for i, s := range r.Split {
		if i == 0 {
			row("split", s)
		} else {
			fmt.Fprintln(w, "  "+s)
		}
	}
	if len(r.Candidates) > 0 {
		row("candidates", "(--prefer Q or --gguf-index N to choose)")
		for _, c := range r.Candidates {
			fmt.Fprintln(w, "  "+c)
		}
	}
	for _, n := range r.Notes {
		row("note", n)
	}
	fmt.Fprintf(w, "metadata      %d keys\n", len(r.Metadata))
	for _, k := range r.metadataOrder {
		fmt.Fprintf(w, "  %s = %s\n", k, shortJSON(r.Metadata[k], 160))
	}
	n := len(r.Tensors)
	if !allTensors && n > 20 {
		n = 20
		fmt.Fprintf(w, "tensors (first %d of %d; --tensors for all)\n", n, len(r.Tensors))
	} else {
		fmt.Fprintln(w, "tensors")
	}
	for _, t := range r.Tensors[:n] {
		fmt.Fprintf(w, "  %-48s %-8s %v\n", t.Name, t.Type, t.Shape)
	}
}

func mapKeysInt(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// shortJSON renders v as JSON, cut to at most n bytes.
func shortJSON(v any, n int) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > n {
		return string(b[:n]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

func init() {
	var opts inspectOptions
	var asJSON, allTensors bool
	cmd := &cobra.Command{
		Use:   "inspect PATH",
		Short: "Describe a checkpoint: format, files, tensors, metadata, architecture, runner",
		Long: `Describe a checkpoint: a GGUF file (split GGUF parts are gathered), a safetensors
file or folder (sharded with model.safetensors.index.json), or a folder holding
several GGUF quantizations (choose with --prefer or --gguf-index).

Shapes are printed outermost first (PyTorch order), GGUF tensors included.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := inspectPath(args[0], opts)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printInspect(cmd.OutOrStdout(), r, allTensors)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Prefer, "prefer", "", "GGUF quantization to pick from a folder of several (default "+weights.DefaultPrefer+")")
	cmd.Flags().IntVar(&opts.GGUFIndex, "gguf-index", -1, "pick the Nth (0-based) GGUF model of a folder instead")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&allTensors, "tensors", false, "list every tensor in the text output")
	rootCmd.AddCommand(cmd)
}
