package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/rlx-go/rlx"
	"github.com/rlx-go/rlx/internal/progress"
	"github.com/rlx-go/rlx/runtime"
	"github.com/spf13/cobra"
)

func init() {
	var (
		lf        lmFlags
		sf        samplingFlags
		system    string
		maxTokens int
	)
	cmd := &cobra.Command{
		Use:   "chat --weights PATH [--system TEXT]",
		Short: "Chat with a language model (interactive, streaming)",
		Long: `Chat with a decoder language model: each line read from standard input is a
user message; the assistant's reply streams to standard output as it is
generated. The conversation is kept (each turn runs only its new tokens
through the model, the rest is in the KV cache) and rendered with the model's
chat template.

Commands: /reset forgets the conversation (keeping --system), /exit (or end
of input) quits.`,
		Example: `  rlx chat --weights Qwen3-0.6B-Q4_K_M.gguf --system "You are terse."
  printf 'hello\n/exit\n' | rlx chat --weights model.gguf --greedy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lm, err := lf.open(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer lm.Close()
			if lm.Tokenizer() == nil {
				return errors.New("chat: the model has no tokenizer")
			}
			if _, err := lm.ChatPrompt(nil); err != nil {
				return fmt.Errorf("chat: %w", err)
			}
			conv, err := lm.NewConversation(system)
			if err != nil {
				return err
			}
			defer conv.Close()
			out := cmd.OutOrStdout()
			opts := append([]rlx.GenerateOption{rlx.MaxTokens(maxTokens)}, sf.options()...)
			opts = append(opts, rlx.OnToken(func(t runtime.Token) error {
				_, err := io.WriteString(out, t.Text)
				return err
			}))
			in := cmd.InOrStdin()
			interactive := progress.IsTerminal(in)
			prompt := func() {
				if interactive {
					fmt.Fprint(cmd.ErrOrStderr(), "> ")
				}
			}
			sc := bufio.NewScanner(in)
			sc.Buffer(make([]byte, 64<<10), 16<<20)
			prompt()
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				switch line {
				case "":
					prompt()
					continue
				case "/exit", "/quit":
					return nil
				case "/reset":
					conv.Reset()
					fmt.Fprintln(cmd.ErrOrStderr(), "(conversation reset)")
					prompt()
					continue
				}
				// Ctrl-C stops the reply, not the chat.
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
				res, err := conv.Send(ctx, line, opts...)
				interrupted := ctx.Err() != nil
				stop()
				if err != nil && !interrupted {
					return err
				}
				fmt.Fprintln(out)
				if res != nil && interactive {
					fmt.Fprintf(cmd.ErrOrStderr(), "(%d tokens, %.1f t/s)\n", res.Timings.GenTokens, res.Timings.DecodePerSecond())
				}
				prompt()
			}
			return sc.Err()
		},
	}
	lf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&system, "system", "", "system message")
	f.IntVar(&maxTokens, "max-tokens", 512, "most tokens per reply")
	sf.register(cmd)
	rootCmd.AddCommand(cmd)
}
