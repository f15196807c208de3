package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rlx-go/rlx/chat"
	"github.com/rlx-go/rlx/chat/jinja"
	"github.com/rlx-go/rlx/format/gguf"
	"github.com/spf13/cobra"
)

func init() {
	var (
		tokPath, tmplPath, msgPath, varsPath, name string
		addGen                                     bool
		varArgs                                    []string
	)
	cmd := &cobra.Command{
		Use:   "template (--tokenizer PATH | --template FILE.jinja) (--messages FILE.json [--add-generation-prompt] [--var k=v]... | --vars VARS.json)",
		Short: "Render a chat template (as transformers' apply_chat_template does)",
		Long: `Render a chat template and print the prompt, exactly, with no newline added.

The template comes from --tokenizer PATH (a tokenizer_config.json, a model
folder holding one or a chat_template.jinja, a tokenizer.json with those
beside it, or a .gguf file's tokenizer.chat_template) or from
--template FILE.jinja.

With --messages FILE.json (a JSON array of messages, or an object with
"messages" and optionally "tools"; "-" reads stdin) the variables are those
apply_chat_template passes: messages, tools, documents, add_generation_prompt,
and the tokenizer's special tokens (bos_token, eos_token, ...). --var k=v adds
or overrides a variable; v is parsed as JSON when it is valid JSON, else
taken as a string (--var enable_thinking=false, --var date_string="1 May").

With --vars VARS.json the template gets exactly the variables in that JSON
object, nothing more.

A template's raise_exception(...) is reported as an error (exit code 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (tokPath == "") == (tmplPath == "") {
				return errors.New("give exactly one of --tokenizer and --template")
			}
			if (msgPath == "") == (varsPath == "") {
				return errors.New("give exactly one of --messages and --vars")
			}
			if varsPath != "" && (addGen || len(varArgs) > 0) {
				return errors.New("--vars passes exactly its variables: --add-generation-prompt and --var go with --messages")
			}
			cfg, err := loadChatConfig(tokPath, tmplPath)
			if err != nil {
				return err
			}
			var vars map[string]any
			if varsPath != "" {
				if vars, err = readVarsFile(cmd.InOrStdin(), varsPath); err != nil {
					return err
				}
			} else {
				if vars, err = messagesVars(cmd.InOrStdin(), msgPath, cfg, addGen); err != nil {
					return err
				}
				for _, kv := range varArgs {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return fmt.Errorf("--var %q: want key=value", kv)
					}
					vars[k] = varValue(v)
				}
			}
			tmplName := name
			if tmplName == "" {
				if _, ok := cfg.Templates["tool_use"]; ok && vars["tools"] != nil {
					// transformers picks the tool_use template when tools is not None.
					tmplName = "tool_use"
				}
			}
			t, err := cfg.Template(tmplName)
			if err != nil {
				return err
			}
			out, err := t.Render(vars)
			if err != nil {
				var exc *chat.Exception
				var where *jinja.Error
				if errors.As(err, &exc) && errors.As(err, &where) {
					return fmt.Errorf("%s:%d: the template raised an exception: %s", where.Name, where.Line, exc.Message)
				}
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&tokPath, "tokenizer", "", "tokenizer_config.json, model folder or .gguf file")
	f.StringVar(&tmplPath, "template", "", "a Jinja chat template file")
	f.StringVar(&msgPath, "messages", "", `JSON file of messages ("-" for stdin)`)
	f.StringVar(&varsPath, "vars", "", `JSON object of all template variables ("-" for stdin)`)
	f.BoolVar(&addGen, "add-generation-prompt", false, "end with the start of an assistant turn")
	f.StringArrayVar(&varArgs, "var", nil, "extra variable key=value (value is JSON if valid, else a string); repeatable")
	f.StringVar(&name, "name", "", "which named template (for a tokenizer with several, e.g. tool_use)")
	rootCmd.AddCommand(cmd)
}

// loadChatConfig finds the template and special tokens.
func loadChatConfig(tokPath, tmplPath string) (*chat.Config, error) {
	if tmplPath != "" {
		src, err := os.ReadFile(tmplPath)
		if err != nil {
			return nil, err
		}
		return &chat.Config{Templates: map[string]string{"default": string(src)}, SpecialTokens: map[string]string{}, Source: tmplPath}, nil
	}
	if strings.EqualFold(filepath.Ext(tokPath), ".gguf") {
		return ggufChatConfig(tokPath)
	}
	if filepath.Base(tokPath) == "tokenizer.json" {
		// The same PATH as rlx tokenize: the chat settings live beside it.
		tokPath = filepath.Dir(tokPath)
	}
	cfg, err := chat.LoadConfig(tokPath)
	if err != nil {
		return nil, err
	}
	if len(cfg.Templates) == 0 {
		return nil, fmt.Errorf("%s has no chat_template", cfg.Source)
	}
	return cfg, nil
}

// ggufChatConfig reads tokenizer.chat_template (and named variants
// tokenizer.chat_template.NAME) and the BOS/EOS tokens of a GGUF file.
func ggufChatConfig(path string) (*chat.Config, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	md := f.Metadata
	cfg := &chat.Config{Templates: map[string]string{}, SpecialTokens: map[string]string{}, Source: path}
	const key = "tokenizer.chat_template"
	for _, k := range md.Keys() {
		if k != key && !strings.HasPrefix(k, key+".") {
			continue
		}
		src, ok := md.String(k)
		if !ok {
			return nil, fmt.Errorf("%s: %s is not a string", path, k)
		}
		n := "default"
		if k != key {
			n = strings.TrimPrefix(k, key+".")
		}
		cfg.Templates[n] = src
	}
	if len(cfg.Templates) == 0 {
		return nil, fmt.Errorf("%s has no %s metadata", path, key)
	}
	tokens, _ := md.Strings("tokenizer.ggml.tokens")
	for _, tk := range []struct{ idKey, name string }{
		{"tokenizer.ggml.bos_token_id", "bos_token"},
		{"tokenizer.ggml.eos_token_id", "eos_token"},
		{"tokenizer.ggml.unknown_token_id", "unk_token"},
		{"tokenizer.ggml.padding_token_id", "pad_token"},
		{"tokenizer.ggml.seperator_token_id", "sep_token"},
	} {
		id, ok := md.Uint32(tk.idKey)
		if !ok {
			continue
		}
		if int64(id) >= int64(len(tokens)) {
			return nil, fmt.Errorf("%s: %s = %d is out of range (%d tokens)", path, tk.idKey, id, len(tokens))
		}
		cfg.SpecialTokens[tk.name] = tokens[id]
	}
	return cfg, nil
}

func readInput(stdin io.Reader, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

func readVarsFile(stdin io.Reader, path string) (map[string]any, error) {
	data, err := readInput(stdin, path)
	if err != nil {
		return nil, err
	}
	v, err := jinja.FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d, ok := v.(*jinja.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: want a JSON object of variables", path)
	}
	vars := make(map[string]any, d.Len())
	for i, k := range d.Keys() {
		vars[k.(string)] = d.Values()[i]
	}
	return vars, nil
}

// messagesVars builds apply_chat_template's variables from a messages file.
func messagesVars(stdin io.Reader, path string, cfg *chat.Config, addGen bool) (map[string]any, error) {
	data, err := readInput(stdin, path)
	if err != nil {
		return nil, err
	}
	v, err := jinja.FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var msgs, tools jinja.Value
	switch x := v.(type) {
	case *jinja.List:
		msgs = x
	case *jinja.Dict:
		m, ok := x.Get("messages")
		if !ok {
			return nil, fmt.Errorf(`%s: a JSON object needs a "messages" array`, path)
		}
		msgs = m
		tools, _ = x.Get("tools")
		for _, k := range x.Keys() {
			if k != "messages" && k != "tools" {
				return nil, fmt.Errorf(`%s: unexpected key %q (only "messages" and "tools"; use --var or --vars for others)`, path, k)
			}
		}
	default:
		return nil, fmt.Errorf("%s: want a JSON array of messages", path)
	}
	l, ok := msgs.(*jinja.List)
	if !ok {
		return nil, fmt.Errorf(`%s: "messages" must be an array`, path)
	}
	for i, m := range l.Items {
		if _, ok := m.(*jinja.Dict); !ok {
			return nil, fmt.Errorf("%s: message %d is not a JSON object", path, i)
		}
	}
	vars := map[string]any{
		"messages":              msgs,
		"tools":                 tools,
		"documents":             nil,
		"add_generation_prompt": addGen,
	}
	for k, tok := range cfg.SpecialTokens {
		vars[k] = tok
	}
	return vars, nil
}

// varValue parses a --var value: JSON when it is valid JSON, else the
// string itself.
func varValue(s string) jinja.Value {
	if v, err := jinja.FromJSON([]byte(s)); err == nil {
		return v
	}
	return s
}
