package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx"
	"github.com/spf13/cobra"
)

func init() {
	var (
		path, pooling, idsFile, prefix string
		device                         string
		normalize, asJSON              bool
		threads, batch, maxSeq         int
	)
	cmd := &cobra.Command{
		Use:   "embed --weights PATH [--pooling mean|cls|max|last] [--normalize] [--ids-file F.jsonl] [--json]",
		Short: "Embed text (one per stdin line) with an encoder model (BERT, NomicBERT)",
		Long: `Embed text with an encoder model: a sentence-transformers folder, a Hugging
Face folder (config.json + safetensors) or a GGUF file (bert, nomic-bert).

Every stdin line is one text (an empty line is the empty text); one JSON array
of floats is printed per line, in order. With --ids-file, every non-blank line
of the file is either a JSON array of token ids or an object
{"input_ids": [...], "token_type_ids": [...]}, fed to the model as is.
With --json, one JSON document {"model", "pooling", "dim", "embeddings"} is
printed instead of one array per line.

Pooling and normalisation default to what the checkpoint says
(1_Pooling/config.json and a Normalize module; a GGUF file's pooling_type);
--pooling and --normalize override them. Texts longer than the model's
max_seq_length tokens are cut at the end, as sentence-transformers does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts []rlx.EmbedderOption
			if pooling != "" {
				opts = append(opts, rlx.WithPooling(pooling))
			}
			if cmd.Flags().Changed("normalize") {
				opts = append(opts, rlx.WithNormalize(normalize))
			}
			if cmd.Flags().Changed("prefix") {
				opts = append(opts, rlx.WithPrefix(prefix))
			}
			if threads > 0 {
				opts = append(opts, rlx.WithThreads(threads))
			}
			if device != "" {
				opts = append(opts, rlx.WithDevice(device))
			}
			if batch > 0 {
				opts = append(opts, rlx.WithBatchSize(batch))
			}
			if maxSeq > 0 {
				opts = append(opts, rlx.WithMaxSeq(maxSeq))
			}
			e, err := rlx.OpenEmbedder(path, opts...)
			if err != nil {
				return err
			}
			defer e.Close()
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			var all [][]float32
			emit := func(vs [][]float32) {
				if asJSON {
					all = append(all, vs...)
					return
				}
				for _, v := range vs {
					writeFloats(out, v)
					out.WriteByte('\n')
				}
			}
			ctx := cmd.Context()
			// Inputs go in chunks so memory stays bounded on long streams;
			// each chunk is bucketed by length inside the embedder.
			const chunk = 1024
			if idsFile != "" {
				f, err := os.Open(idsFile)
				if err != nil {
					return err
				}
				defer f.Close()
				var pending []rlx.TokenInput
				flush := func() error {
					vs, err := e.EmbedIDs(ctx, pending)
					if err != nil {
						return err
					}
					emit(vs)
					pending = pending[:0]
					return nil
				}
				err = eachLine(f, func(n int, line []byte) error {
					if len(bytes.TrimSpace(line)) == 0 {
						return nil
					}
					in, err := parseIDsLine(line)
					if err != nil {
						return fmt.Errorf("%s line %d: %w", idsFile, n, err)
					}
					pending = append(pending, in)
					if len(pending) == chunk {
						return flush()
					}
					return nil
				})
				if err == nil && len(pending) > 0 {
					err = flush()
				}
				if err != nil {
					return err
				}
			} else {
				var pending []string
				flush := func() error {
					vs, err := e.Embed(ctx, pending)
					if err != nil {
						return err
					}
					emit(vs)
					pending = pending[:0]
					return nil
				}
				r := bufio.NewReader(cmd.InOrStdin())
				for {
					line, err := r.ReadString('\n')
					if len(line) > 0 || err == nil {
						pending = append(pending, strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"))
						if len(pending) == chunk {
							if err := flush(); err != nil {
								return err
							}
						}
					}
					if err == io.EOF {
						break
					}
					if err != nil {
						return err
					}
				}
				if len(pending) > 0 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if asJSON {
				doc := struct {
					Model      string      `json:"model"`
					Family     string      `json:"family"`
					Pooling    string      `json:"pooling"`
					Dim        int         `json:"dim"`
					Embeddings [][]float32 `json:"embeddings"`
				}{path, e.Family(), e.Pooling(), e.Dim(), all}
				if doc.Embeddings == nil {
					doc.Embeddings = [][]float32{}
				}
				enc := json.NewEncoder(out)
				return enc.Encode(doc)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "weights", "", "model: sentence-transformers / HF folder or .gguf file (required)")
	f.StringVar(&pooling, "pooling", "", "mean, cls, max, last or mean_sqrt_len (default: the checkpoint's)")
	f.BoolVar(&normalize, "normalize", false, "L2-normalise the embeddings (default: the checkpoint's Normalize module)")
	f.StringVar(&idsFile, "ids-file", "", "JSONL file of token ids (arrays or {input_ids, token_type_ids}) instead of stdin text")
	f.StringVar(&prefix, "prefix", "", "text put before every input (\"query: \", \"search_document: \")")
	f.BoolVar(&asJSON, "json", false, "print one JSON document instead of one array per line")
	f.IntVar(&threads, "threads", 0, "CPU threads (default: all cores)")
	f.StringVar(&device, "device", "cpu", "where to run: cpu, cuda (GPU 0) or cuda:N")
	f.IntVar(&batch, "batch-size", 0, "texts per batch (default 32)")
	f.IntVar(&maxSeq, "max-seq", 0, "truncation length in tokens (default: the model's max_seq_length)")
	_ = cmd.MarkFlagRequired("weights")
	rootCmd.AddCommand(cmd)
}

// parseIDsLine reads one --ids-file line.
func parseIDsLine(line []byte) (rlx.TokenInput, error) {
	line = bytes.TrimSpace(line)
	var in rlx.TokenInput
	if len(line) > 0 && line[0] == '[' {
		if err := json.Unmarshal(line, &in.IDs); err != nil {
			return in, fmt.Errorf("want a JSON array of token ids: %w", err)
		}
		return in, nil
	}
	var obj struct {
		IDs   []int32 `json:"input_ids"`
		Types []int32 `json:"token_type_ids"`
	}
	if err := json.Unmarshal(line, &obj); err != nil {
		return in, fmt.Errorf("want a JSON array of ids or {\"input_ids\": [...]}: %w", err)
	}
	if obj.IDs == nil {
		return in, fmt.Errorf("no input_ids")
	}
	in.IDs, in.Types = obj.IDs, obj.Types
	return in, nil
}

func writeFloats(w *bufio.Writer, v []float32) {
	w.WriteByte('[')
	var buf [32]byte
	for i, x := range v {
		if i > 0 {
			w.WriteByte(',')
		}
		w.Write(strconv.AppendFloat(buf[:0], float64(x), 'g', -1, 32))
	}
	w.WriteByte(']')
}
