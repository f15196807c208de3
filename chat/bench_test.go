package chat

import (
	"encoding/json"
	"os"
	"testing"
)

var benchMessages = []Message{
	{Role: "system", Content: "You are a concise assistant."},
	{Role: "user", Content: "What is the weather in Paris and in Rome?"},
	{Role: "assistant", Content: "<think>\nTwo cities, two calls.\n</think>\n\nChecking.", ToolCalls: []ToolCall{
		{Function: FunctionCall{Name: "get_weather", Arguments: json.RawMessage(`{"city": "Paris"}`)}},
		{Function: FunctionCall{Name: "get_weather", Arguments: json.RawMessage(`{"city": "Rome"}`)}},
	}},
	{Role: "tool", Content: `{"temp": 21}`},
	{Role: "tool", Content: `{"temp": 25}`},
	{Role: "assistant", Content: "Paris 21 °C, Rome 25 °C."},
	{Role: "user", Content: "Thanks! And tomorrow?"},
}

var benchTools = []json.RawMessage{json.RawMessage(`{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "day": {"type": "string", "enum": ["today", "tomorrow"]}}, "required": ["city"]}}}`)}

func benchTemplate(b *testing.B, path string) *Template {
	b.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	t, err := Parse(string(src))
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkApply renders a seven-message tool-use conversation with real
// templates (bytes/s is prompt bytes produced).
func BenchmarkApply(b *testing.B) {
	for _, tc := range []struct{ name, path string }{
		{"Qwen3", "testdata/chat-templates/templates/Qwen-Qwen3-0.6B.jinja"},
		{"Llama3.1", "testdata/chat-templates/templates/meta-llama-Llama-3.1-8B-Instruct.jinja"},
		{"Qwen3.5", "testdata/chat-templates/templates/Qwen3.5-4B.jinja"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			t := benchTemplate(b, tc.path)
			opts := Options{AddGenerationPrompt: true, Tools: benchTools, BOSToken: "<s>", EOSToken: "</s>"}
			msgs := benchMessages
			if tc.name == "Llama3.1" { // one tool call per message
				msgs = append(append([]Message{}, msgs[:2]...), Message{Role: "assistant", ToolCalls: msgs[2].ToolCalls[:1]}, msgs[3], msgs[5], msgs[6])
			}
			out, err := t.Apply(msgs, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.Apply(msgs, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse parses the largest fixture template.
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("testdata/chat-templates/templates/openbmb-MiniCPM5-1B.jinja")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(string(src)); err != nil {
			b.Fatal(err)
		}
	}
}
