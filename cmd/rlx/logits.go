package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func init() {
	var (
		lf                 lmFlags
		prompt, promptIDsS string
		out                string
	)
	cmd := &cobra.Command{
		Use:   "logits --weights PATH --prompt-ids 1,2,3 -o OUT.npy",
		Short: "Write a language model's logits for every prompt position as .npy",
		Long: `Run a prompt through a decoder language model and write the logits of
every position as a NumPy .npy file: float32, shape [T, vocab].
--prompt TEXT works for models with a tokenizer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("-o OUT.npy is required")
			}
			lm, err := lf.open(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer lm.Close()
			ids, err := promptIDs(lm, prompt, promptIDsS)
			if err != nil {
				return err
			}
			lg, err := lm.Logits(context.Background(), ids)
			if err != nil {
				return err
			}
			if err := writeNPYFile(out, []int64{int64(lg.Rows), int64(lg.Vocab)}, lg.Data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: [%d %d] float32\n", out, lg.Rows, lg.Vocab)
			return nil
		},
	}
	lf.register(cmd)
	cmd.Flags().StringVar(&prompt, "prompt", "", "prompt text (encoded with the model's tokenizer)")
	cmd.Flags().StringVar(&promptIDsS, "prompt-ids", "", "prompt token ids, comma separated")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output .npy file")
	rootCmd.AddCommand(cmd)
}
