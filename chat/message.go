package chat

import (
	"encoding/json"
	"fmt"

	"github.com/rlx-go/rlx/chat/jinja"
)

// Message is one turn of a conversation, in the shape chat templates
// expect (OpenAI-style keys).
type Message struct {
	Role string `json:"role"`
	// Content is the text of the message. It is passed as a string unless
	// Parts is set.
	Content string `json:"content"`
	// Parts, when non-nil, replaces Content with a list of typed parts
	// (multimodal messages: {"type": "text", "text": …}, {"type": "image"}).
	Parts []Part `json:"-"`
	// ReasoningContent is an assistant's thinking, for templates that
	// render it (Qwen3); omitted when empty.
	ReasoningContent string `json:"reasoning_content,omitempty"`
	// ToolCalls are the calls an assistant message makes; omitted when empty.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID links a tool result to its call; omitted when empty.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// Name is an optional author name; omitted when empty.
	Name string `json:"name,omitempty"`
	// Raw, when set, is the whole message as a JSON object, used verbatim
	// and in its key order; the other fields are then ignored. Use it for
	// keys this struct does not model.
	Raw json.RawMessage `json:"-"`
}

// Part is one item of a multimodal message's content.
type Part struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
}

// ToolCall is a function call made by an assistant message.
type ToolCall struct {
	ID   string `json:"id,omitempty"`
	Type string `json:"type"` // "function" when empty
	// Function is the called function.
	Function FunctionCall `json:"function"`
}

// FunctionCall names a function and its arguments.
type FunctionCall struct {
	Name string `json:"name"`
	// Arguments is a JSON object (templates render it with tojson or
	// iterate its items); a JSON string is passed as a string.
	Arguments json.RawMessage `json:"arguments"`
}

// Options are the other inputs of apply_chat_template.
type Options struct {
	// AddGenerationPrompt appends the tokens that start an assistant turn.
	AddGenerationPrompt bool
	// Tools are the tool (function) schemas, each a JSON object; nil
	// passes tools=None, as transformers does.
	Tools []json.RawMessage
	// Documents are retrieval documents for RAG templates, each a JSON
	// object; nil passes documents=None.
	Documents []json.RawMessage
	// BOSToken and EOSToken are passed as bos_token and eos_token when not
	// empty (transformers passes only the special tokens a tokenizer has).
	BOSToken, EOSToken string
	// Vars are extra template variables (enable_thinking, date_string,
	// other special tokens, …); they override the standard ones.
	Vars map[string]any
	// ContinueFinalMessage ends the prompt inside the last message (to
	// prefill the start of a reply) instead of closing it, as
	// apply_chat_template(continue_final_message=True) does. It cannot be
	// combined with AddGenerationPrompt.
	ContinueFinalMessage bool
}

// Variables builds the variables apply_chat_template passes to a
// template: messages, tools, documents, add_generation_prompt, the special
// tokens, and opts.Vars.
func Variables(messages []Message, opts Options) (map[string]any, error) {
	msgs := &jinja.List{Items: make([]jinja.Value, len(messages))}
	for i, m := range messages {
		v, err := m.value()
		if err != nil {
			return nil, fmt.Errorf("chat: message %d: %w", i, err)
		}
		msgs.Items[i] = v
	}
	vars := map[string]any{
		"messages":              msgs,
		"add_generation_prompt": opts.AddGenerationPrompt,
	}
	var err error
	if vars["tools"], err = rawList("tools", opts.Tools); err != nil {
		return nil, err
	}
	if vars["documents"], err = rawList("documents", opts.Documents); err != nil {
		return nil, err
	}
	if opts.BOSToken != "" {
		vars["bos_token"] = opts.BOSToken
	}
	if opts.EOSToken != "" {
		vars["eos_token"] = opts.EOSToken
	}
	for k, v := range opts.Vars {
		vars[k] = v
	}
	return vars, nil
}

func rawList(what string, raws []json.RawMessage) (jinja.Value, error) {
	if raws == nil {
		return nil, nil
	}
	l := &jinja.List{Items: make([]jinja.Value, len(raws))}
	for i, r := range raws {
		v, err := jinja.FromJSON(r)
		if err != nil {
			return nil, fmt.Errorf("chat: %s[%d]: %w", what, i, err)
		}
		l.Items[i] = v
	}
	return l, nil
}

// value converts m to the dict a template sees, keys in a fixed order.
func (m Message) value() (jinja.Value, error) {
	if m.Raw != nil {
		v, err := jinja.FromJSON(m.Raw)
		if err != nil {
			return nil, err
		}
		if _, ok := v.(*jinja.Dict); !ok {
			return nil, fmt.Errorf("raw message is not a JSON object")
		}
		return v, nil
	}
	d := jinja.NewDict()
	set := func(k string, v jinja.Value) { _ = d.Set(k, v) }
	set("role", m.Role)
	if m.Parts != nil {
		parts := &jinja.List{Items: make([]jinja.Value, len(m.Parts))}
		for i, p := range m.Parts {
			pd := jinja.NewDict()
			_ = pd.Set("type", p.Type)
			if p.Type == "text" || p.Text != "" {
				_ = pd.Set("text", p.Text)
			}
			parts.Items[i] = pd
		}
		set("content", parts)
	} else {
		set("content", m.Content)
	}
	if m.ReasoningContent != "" {
		set("reasoning_content", m.ReasoningContent)
	}
	if len(m.ToolCalls) > 0 {
		calls := &jinja.List{Items: make([]jinja.Value, len(m.ToolCalls))}
		for i, tc := range m.ToolCalls {
			cd := jinja.NewDict()
			if tc.ID != "" {
				_ = cd.Set("id", tc.ID)
			}
			typ := tc.Type
			if typ == "" {
				typ = "function"
			}
			_ = cd.Set("type", typ)
			fd := jinja.NewDict()
			_ = fd.Set("name", tc.Function.Name)
			var args jinja.Value = jinja.NewDict()
			if len(tc.Function.Arguments) > 0 {
				var err error
				if args, err = jinja.FromJSON(tc.Function.Arguments); err != nil {
					return nil, fmt.Errorf("tool call %d arguments: %w", i, err)
				}
			}
			_ = fd.Set("arguments", args)
			_ = cd.Set("function", fd)
			calls.Items[i] = cd
		}
		set("tool_calls", calls)
	}
	if m.ToolCallID != "" {
		set("tool_call_id", m.ToolCallID)
	}
	if m.Name != "" {
		set("name", m.Name)
	}
	return d, nil
}
