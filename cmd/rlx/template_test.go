package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
)

const chatTestdata = "../../chat/testdata"

// TestTemplateCLIProcess is not a test: runRLX re-executes the test binary
// with RLX_TEMPLATE_CLI=1 to run the real main (exit codes included).
func TestTemplateCLIProcess(t *testing.T) {
	if os.Getenv("RLX_TEMPLATE_CLI") != "1" {
		t.Skip("helper process for the rlx template tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv("RLX_TEMPLATE_ARGS")), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"rlx"}, args...)
	main()
	os.Exit(0)
}

func runRLX(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTemplateCLIProcess$")
	argsJSON, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "RLX_TEMPLATE_CLI=1", "RLX_TEMPLATE_ARGS="+string(argsJSON))
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

type hfChat struct {
	Messages json.RawMessage `json:"messages"`
	Kwargs   map[string]any  `json:"kwargs"`
	Rendered string          `json:"rendered"`
}

func loadHFChats(t *testing.T) map[string]map[string]hfChat {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chatTestdata, "hf/conversations_rendered.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx map[string]struct {
		Chat map[string]hfChat `json:"chat"`
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]hfChat{}
	for k, v := range fx {
		out[k] = v.Chat
	}
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTemplateCLITransformers renders the real tokenizer configurations'
// templates through the CLI (config file, model folder, stdin) and
// compares with transformers' apply_chat_template.
func TestTemplateCLITransformers(t *testing.T) {
	chats := loadHFChats(t)
	dir := t.TempDir()
	for _, model := range []string{"qwen3", "llama3", "gemma3"} {
		cfgPath := filepath.Join(chatTestdata, "hf", model+"_tokenizer_config.json")
		folder := filepath.Join(dir, model)
		if err := os.Mkdir(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		cfgData, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, folder, "tokenizer_config.json", cfgData)
		for name, c := range chats[model] {
			msgFile := writeFile(t, dir, model+"_"+name+".json", c.Messages)
			args := []string{"template", "--tokenizer", cfgPath, "--messages", msgFile}
			if c.Kwargs["add_generation_prompt"] == true {
				args = append(args, "--add-generation-prompt")
			}
			if v, ok := c.Kwargs["enable_thinking"]; ok {
				b, _ := json.Marshal(v)
				args = append(args, "--var", "enable_thinking="+string(b))
			}
			out, errOut, code := runRLX(t, "", args...)
			if code != 0 || out != c.Rendered {
				t.Errorf("%s/%s: exit %d, stderr %q\n got %q\nwant %q", model, name, code, errOut, out, c.Rendered)
			}
			// The same through a model folder, with messages on stdin, and
			// through the folder's tokenizer.json path.
			args[2], args[4] = folder, "-"
			out2, errOut, code := runRLX(t, string(c.Messages), args...)
			if code != 0 || out2 != c.Rendered {
				t.Errorf("%s/%s via folder and stdin: exit %d, stderr %q, got %q", model, name, code, errOut, out2)
			}
			args[2] = filepath.Join(folder, "tokenizer.json")
			out3, errOut, code := runRLX(t, string(c.Messages), args...)
			if code != 0 || out3 != c.Rendered {
				t.Errorf("%s/%s via tokenizer.json: exit %d, stderr %q, got %q", model, name, code, errOut, out3)
			}
		}
	}
}

// TestTemplateCLIRaise checks that raise_exception is an error with its
// message and exit code 1 (gemma-2 refuses a system message).
func TestTemplateCLIRaise(t *testing.T) {
	vars := `{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], "add_generation_prompt": true, "bos_token": "<bos>"}`
	dir := t.TempDir()
	varsFile := writeFile(t, dir, "vars.json", []byte(vars))
	tmpl := filepath.Join(chatTestdata, "chat-templates/templates/google-gemma-2-2b-it.jinja")
	out, errOut, code := runRLX(t, "", "template", "--template", tmpl, "--vars", varsFile)
	if code != 1 || out != "" || !strings.Contains(errOut, "System role not supported") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Without the system message it renders, and --vars passes exactly
	// its variables (no eos_token here: the template does not need one).
	vars = `{"messages": [{"role": "user", "content": "u"}], "add_generation_prompt": true, "bos_token": "<bos>"}`
	out, errOut, code = runRLX(t, vars, "template", "--template", tmpl, "--vars", "-")
	want := "<bos><start_of_turn>user\nu<end_of_turn>\n<start_of_turn>model\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q, got %q want %q", code, errOut, out, want)
	}
}

func TestTemplateCLIVars(t *testing.T) {
	dir := t.TempDir()
	tmpl := writeFile(t, dir, "t.jinja", []byte(
		"{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}"+
			"[{{ flag is sameas true }}|{{ n + 1 }}|{{ s }}|{{ obj|tojson }}|{{ bos_token }}|{{ add_generation_prompt }}|{{ tools }}]\n"))
	msgs := writeFile(t, dir, "m.json", []byte(`[{"role": "user", "content": "hé"}]`))
	out, errOut, code := runRLX(t, "", "template", "--template", tmpl, "--messages", msgs,
		"--var", "flag=true", "--var", "n=41", "--var", "s=plain text", "--var", `obj={"z": 1, "a": [1.5, null]}`, "--var", "bos_token=<s>")
	want := `user:hé;[True|42|plain text|{"z": 1, "a": [1.5, null]}|<s>|False|None]`
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q\n got %q\nwant %q", code, errOut, out, want)
	}
	// Messages given as an object with tools.
	obj := writeFile(t, dir, "o.json", []byte(`{"messages": [{"role": "user", "content": "x"}], "tools": [{"b": 1, "a": 2}]}`))
	tmpl2 := writeFile(t, dir, "t2.jinja", []byte("{{ messages[0].content }}|{{ add_generation_prompt }}|{{ tools }}|{{ tools|tojson }}"))
	out, errOut, code = runRLX(t, "", "template", "--template", tmpl2, "--messages", obj, "--add-generation-prompt")
	if want := `x|True|[{'b': 1, 'a': 2}]|[{"b": 1, "a": 2}]`; code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q, got %q", code, errOut, out)
	}
}

func TestTemplateCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	tmpl := writeFile(t, dir, "t.jinja", []byte("{{ messages|length }}"))
	bad := writeFile(t, dir, "bad.jinja", []byte("line one\n{% if x %}\n{{ x + }}\n{% endif %}"))
	msgs := writeFile(t, dir, "m.json", []byte(`[{"role": "user", "content": "x"}]`))
	notJSON := writeFile(t, dir, "n.json", []byte(`[{"role": `))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"template", "--messages", msgs}, "exactly one of --tokenizer and --template"},
		{[]string{"template", "--template", tmpl}, "exactly one of --messages and --vars"},
		{[]string{"template", "--template", tmpl, "--vars", msgs, "--add-generation-prompt"}, "--vars passes exactly"},
		{[]string{"template", "--template", tmpl, "--vars", msgs}, "want a JSON object"},
		{[]string{"template", "--template", tmpl, "--messages", notJSON}, "invalid JSON"},
		{[]string{"template", "--template", bad, "--messages", msgs}, ":3: syntax error"},
		{[]string{"template", "--template", tmpl, "--messages", msgs, "--var", "novalue"}, "want key=value"},
		{[]string{"template", "--tokenizer", filepath.Join(dir, "missing.json"), "--messages", msgs}, "no such file"},
		{[]string{"template", "--tokenizer", dir, "--messages", msgs}, "no tokenizer_config.json"},
	} {
		out, errOut, code := runRLX(t, "", tc.args...)
		if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("rlx %v: exit %d, stdout %q, stderr %q; want exit 1 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestTemplateCLIGGUF renders tokenizer.chat_template from a GGUF file with
// its BOS token looked up in tokenizer.ggml.tokens.
func TestTemplateCLIGGUF(t *testing.T) {
	chats := loadHFChats(t)
	cfg, err := os.ReadFile(filepath.Join(chatTestdata, "hf/llama3_tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tc struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := json.Unmarshal(cfg, &tc); err != nil {
		t.Fatal(err)
	}
	md := &gguf.Metadata{}
	for k, v := range map[string]any{
		gguf.KeyArchitecture:           "llama",
		"tokenizer.ggml.model":         "gpt2",
		"tokenizer.ggml.tokens":        []string{"!", "<|begin_of_text|>", "<|end_of_text|>"},
		"tokenizer.ggml.bos_token_id":  uint32(1),
		"tokenizer.ggml.eos_token_id":  uint32(2),
		"tokenizer.chat_template":      tc.ChatTemplate,
		"tokenizer.chat_template.echo": "{{ bos_token }}{{ messages[0].content }}",
	} {
		if err := md.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, md, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := writeFile(t, dir, "vocab.gguf", buf.Bytes())
	c := chats["llama3"]["three_turn"]
	msgs := writeFile(t, dir, "m.json", c.Messages)
	out, errOut, code := runRLX(t, "", "template", "--tokenizer", path, "--messages", msgs, "--add-generation-prompt")
	if code != 0 || out != c.Rendered {
		t.Fatalf("exit %d, stderr %q\n got %q\nwant %q", code, errOut, out, c.Rendered)
	}
	out, errOut, code = runRLX(t, "", "template", "--tokenizer", path, "--name", "echo", "--messages", msgs)
	if want := "<|begin_of_text|>You are a concise assistant."; code != 0 || out != want {
		t.Fatalf("named template: exit %d, stderr %q, got %q", code, errOut, out)
	}
}

// TestTemplateCLINamedTemplates: with a list of templates, tools select
// tool_use (as in transformers), --name selects any.
func TestTemplateCLINamedTemplates(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tokenizer_config.json", []byte(`{"chat_template": [
		{"name": "default", "template": "D:{{ messages|length }}"},
		{"name": "tool_use", "template": "T:{{ tools|length }}"},
		{"name": "rag", "template": "R"}]}`))
	plain := writeFile(t, dir, "plain.json", []byte(`[{"role": "user", "content": "x"}]`))
	withTools := writeFile(t, dir, "tools.json", []byte(`{"messages": [{"role": "user", "content": "x"}], "tools": []}`))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--messages", plain}, "D:1"},
		{[]string{"--messages", withTools}, "T:0"},
		{[]string{"--messages", withTools, "--name", "default"}, "D:1"},
		{[]string{"--messages", plain, "--name", "rag"}, "R"},
	} {
		out, errOut, code := runRLX(t, "", append([]string{"template", "--tokenizer", cfg}, tc.args...)...)
		if code != 0 || out != tc.want {
			t.Errorf("%v: exit %d, stderr %q, got %q, want %q", tc.args, code, errOut, out, tc.want)
		}
	}
	if _, errOut, code := runRLX(t, "", "template", "--tokenizer", cfg, "--messages", plain, "--name", "nope"); code != 1 || !strings.Contains(errOut, `"nope"`) {
		t.Errorf("unknown name: exit %d, stderr %q", code, errOut)
	}
}
