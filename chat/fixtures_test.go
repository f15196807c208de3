package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/chat/jinja"
)

// TestHuggingFaceJinjaFixtures renders the 11 real templates with the exact
// variables @huggingface/jinja was given and compares byte for byte.
func TestHuggingFaceJinjaFixtures(t *testing.T) {
	data, err := os.ReadFile("testdata/chat-templates/chat_templates.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Cases []struct {
			Template     string          `json:"template"`
			Conversation string          `json:"conversation"`
			Variables    json.RawMessage `json:"variables"`
			Rendered     *string         `json:"rendered"`
			Error        *string         `json:"error"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) < 26 {
		t.Fatalf("only %d cases in the fixture", len(fx.Cases))
	}
	templates := map[string]bool{}
	for i, c := range fx.Cases {
		templates[c.Template] = true
		name := c.Template + "/" + c.Conversation
		src, err := os.ReadFile(filepath.Join("testdata/chat-templates/templates", c.Template))
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := Parse(string(src))
		if err != nil {
			t.Errorf("case %d %s: parse: %v", i, name, err)
			continue
		}
		vars, err := jinja.FromJSON(c.Variables)
		if err != nil {
			t.Fatal(err)
		}
		d := vars.(*jinja.Dict)
		m := map[string]any{}
		for j, k := range d.Keys() {
			m[k.(string)] = d.Values()[j]
		}
		got, err := tmpl.Render(m)
		if c.Error != nil {
			var exc *Exception
			if !errors.As(err, &exc) {
				t.Errorf("case %d %s: want raise_exception(%q), got %q, %v", i, name, *c.Error, got, err)
			} else if exc.Message != *c.Error {
				t.Errorf("case %d %s: raised %q, want %q", i, name, exc.Message, *c.Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d %s: %v", i, name, err)
			continue
		}
		if got != *c.Rendered {
			t.Errorf("case %d %s:\n got %q\nwant %q", i, name, got, *c.Rendered)
		}
	}
	if len(templates) != 11 {
		t.Errorf("fixture covers %d templates, want 11", len(templates))
	}
}

// TestTransformersApplyChatTemplate renders the real Qwen3, Llama 3 and
// Gemma 3 templates from their tokenizer_config.json through the typed API
// and compares with transformers' apply_chat_template.
func TestTransformersApplyChatTemplate(t *testing.T) {
	data, err := os.ReadFile("testdata/hf/conversations_rendered.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx map[string]struct {
		Chat map[string]struct {
			Messages []Message      `json:"messages"`
			Kwargs   map[string]any `json:"kwargs"`
			Rendered string         `json:"rendered"`
		} `json:"chat"`
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, model := range []string{"qwen3", "llama3", "gemma3"} {
		cfg, err := LoadConfig(filepath.Join("testdata/hf", model+"_tokenizer_config.json"))
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := cfg.Template("")
		if err != nil {
			t.Fatal(err)
		}
		cases := fx[model].Chat
		if len(cases) != 4 {
			t.Fatalf("%s: %d conversations, want 4", model, len(cases))
		}
		for name, c := range cases {
			opts := cfg.Options()
			for k, v := range c.Kwargs {
				if k == "add_generation_prompt" {
					opts.AddGenerationPrompt = v.(bool)
					continue
				}
				opts.Vars[k] = v
			}
			got, err := tmpl.Apply(c.Messages, opts)
			if err != nil {
				t.Errorf("%s/%s: %v", model, name, err)
				continue
			}
			if got != c.Rendered {
				t.Errorf("%s/%s:\n got %q\nwant %q", model, name, got, c.Rendered)
			}
			n++
		}
	}
	if n != 12 {
		t.Errorf("checked %d conversations, want 12", n)
	}
}

func TestQwen3ToolsTypedAPI(t *testing.T) {
	cfg, err := LoadConfig("testdata/hf/qwen3_tokenizer_config.json")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := cfg.Template("")
	if err != nil {
		t.Fatal(err)
	}
	opts := cfg.Options()
	opts.AddGenerationPrompt = true
	opts.Tools = []json.RawMessage{json.RawMessage(`{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}`)}
	msgs := []Message{
		{Role: "user", Content: "Weather in Paris?"},
		{Role: "assistant", ToolCalls: []ToolCall{{Function: FunctionCall{Name: "get_weather", Arguments: json.RawMessage(`{"city": "Paris", "unit": "°C"}`)}}}},
		{Role: "tool", Content: `{"temp": 21}`},
	}
	got, err := tmpl.Apply(msgs, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The tool schema keeps its key order and Python's separators; the
	// call's arguments keep non-ASCII text (ensure_ascii=False).
	for _, want := range []string{
		`<tools>` + "\n" + `{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}` + "\n</tools>",
		"<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"°C\"}}\n</tool_call><|im_end|>\n",
		"<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered prompt lacks %q:\n%s", want, got)
		}
	}
}

// TestContinueFinalMessage prefills an assistant turn: the prompt is the
// transformers rendering of the conversation without the final turn's
// end, so it must equal the full rendering cut right after the prefix.
func TestContinueFinalMessage(t *testing.T) {
	for _, model := range []string{"qwen3", "llama3", "gemma3"} {
		cfg, err := LoadConfig("testdata/hf/" + model + "_tokenizer_config.json")
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := cfg.Template("")
		if err != nil {
			t.Fatal(err)
		}
		msgs := []Message{{Role: "user", Content: "Name a colour."}, {Role: "assistant", Content: "The colour is  "}}
		full, err := tmpl.Apply(msgs, cfg.Options())
		if err != nil {
			t.Fatal(err)
		}
		opts := cfg.Options()
		opts.ContinueFinalMessage = true
		got, err := tmpl.Apply(msgs, opts)
		if err != nil {
			t.Fatal(err)
		}
		// The prompt is everything before the final message, then its
		// text as given: the marker follows the text, so even templates
		// that trim content (Llama 3, Gemma 3) keep its trailing spaces.
		i := strings.Index(full, "The colour is")
		want := full[:i] + "The colour is  "
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", model, got, want)
		}
		opts.AddGenerationPrompt = true
		if _, err := tmpl.Apply(msgs, opts); err == nil {
			t.Errorf("%s: ContinueFinalMessage with AddGenerationPrompt did not fail", model)
		}
	}
	// Multimodal content continues its last text part.
	tmpl, err := Parse(`{% for m in messages %}[{% for p in m.content %}{{ p.text }}{% endfor %}]{% endfor %}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Apply([]Message{{Role: "assistant", Parts: []Part{{Type: "text", Text: "a"}, {Type: "image"}, {Type: "text", Text: "b"}}}}, Options{ContinueFinalMessage: true})
	if err != nil || got != "[ab" {
		t.Fatalf("got %q, %v", got, err)
	}
}
