package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/rlx-go/rlx/tokenizer"
	"github.com/spf13/cobra"
)

func init() {
	var (
		path      string
		noSpecial bool
		jsonl     bool
	)
	tok := &cobra.Command{
		Use:   "tokenize --tokenizer PATH [--no-special] [--jsonl]",
		Short: "Encode text from stdin into token ids (JSON)",
		Long: `Encode text from stdin into token ids.

PATH is a tokenizer.json, a model folder (tokenizer.json and
tokenizer_config.json) or a .gguf file. By default all of stdin is one text
and one JSON array of ids is printed. With --jsonl every stdin line is a JSON
string and one JSON array of ids is printed per line. Special tokens are added
as the tokenizer's post-processor says, unless --no-special.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := tokenizer.Load(path)
			if err != nil {
				return err
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			encode := func(text, where string) error {
				ids, err := t.Encode(text, !noSpecial)
				if err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				writeIDs(out, ids)
				return nil
			}
			in := cmd.InOrStdin()
			if !jsonl {
				data, err := io.ReadAll(in)
				if err != nil {
					return err
				}
				return encode(string(data), "stdin")
			}
			return eachLine(in, func(n int, line []byte) error {
				var text string
				if err := json.Unmarshal(line, &text); err != nil {
					return fmt.Errorf("stdin line %d: want a JSON string: %w", n, err)
				}
				return encode(text, fmt.Sprintf("stdin line %d", n))
			})
		},
	}
	tok.Flags().StringVar(&path, "tokenizer", "", "tokenizer.json, model folder or .gguf file")
	tok.Flags().BoolVar(&noSpecial, "no-special", false, "do not add the post-processor's special tokens (BOS, EOS, …)")
	tok.Flags().BoolVar(&jsonl, "jsonl", false, "read one JSON string per line, print one JSON array per line")
	_ = tok.MarkFlagRequired("tokenizer")
	rootCmd.AddCommand(tok)

	var skipSpecial bool
	var detokPath string
	detok := &cobra.Command{
		Use:   "detokenize --tokenizer PATH [--skip-special]",
		Short: "Decode JSON arrays of token ids from stdin, one per line, into JSON strings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := tokenizer.Load(detokPath)
			if err != nil {
				return err
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			return eachLine(cmd.InOrStdin(), func(n int, line []byte) error {
				var raw []json.Number
				dec := json.NewDecoder(bytes.NewReader(line))
				dec.UseNumber()
				if err := dec.Decode(&raw); err != nil {
					return fmt.Errorf("stdin line %d: want a JSON array of token ids: %w", n, err)
				}
				ids := make([]int32, len(raw))
				for i, x := range raw {
					v, err := strconv.ParseInt(string(x), 10, 64)
					if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
						return fmt.Errorf("stdin line %d: element %d (%s) is not a token id", n, i, x)
					}
					ids[i] = int32(v)
				}
				text, err := t.Decode(ids, skipSpecial)
				if err != nil {
					return fmt.Errorf("stdin line %d: %w", n, err)
				}
				return enc.Encode(text)
			})
		},
	}
	detok.Flags().StringVar(&detokPath, "tokenizer", "", "tokenizer.json, model folder or .gguf file")
	detok.Flags().BoolVar(&skipSpecial, "skip-special", false, "leave special tokens out of the text")
	_ = detok.MarkFlagRequired("tokenizer")
	rootCmd.AddCommand(detok)
}

func writeIDs(w *bufio.Writer, ids []int32) {
	w.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(strconv.FormatInt(int64(id), 10))
	}
	w.WriteString("]\n")
}

// eachLine calls fn for every non-empty line of r (numbered from 1), with
// no line-length limit.
func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if ferr := fn(n, line); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
