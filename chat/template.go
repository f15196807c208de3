// Package chat renders chat templates: the Jinja templates that Hugging
// Face tokenizers carry (tokenizer_config.json "chat_template", a
// chat_template.jinja file, or GGUF "tokenizer.chat_template") to turn a
// list of messages into a prompt.
//
// Rendering matches transformers' apply_chat_template: jinja2 with
// trim_blocks and lstrip_blocks, an immutable sandbox, loop controls,
// raise_exception, strftime_now, and transformers' own tojson (key order
// kept, non-ASCII kept, Python's separators). The interpreter is package
// chat/jinja.
package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rlx-go/rlx/chat/jinja"
)

// Template is a parsed chat template. It is safe for concurrent use.
type Template struct {
	t   *jinja.Template
	env *jinja.Env
}

// Exception is the error a template raises through raise_exception(msg);
// Message is msg. Render returns it wrapped in a *jinja.Error that adds
// the line, so use errors.As to find it.
type Exception struct {
	Message string
}

// Error returns the template's message.
func (e *Exception) Error() string { return e.Message }

// Parse parses a chat template with transformers' jinja2 settings.
func Parse(src string) (*Template, error) {
	return parseNamed("chat template", src, time.Now)
}

func parseNamed(name, src string, now func() time.Time) (*Template, error) {
	t, err := jinja.Parse(name, src, jinja.Options{TrimBlocks: true, LStripBlocks: true})
	if err != nil {
		return nil, err
	}
	return &Template{t: t, env: newEnv(now)}, nil
}

// WithClock returns a copy of t whose strftime_now reads the time from now
// instead of the system clock (for reproducible renders and tests).
func (t *Template) WithClock(now func() time.Time) *Template {
	return &Template{t: t.t, env: newEnv(now)}
}

func newEnv(now func() time.Time) *jinja.Env {
	return &jinja.Env{
		Globals: map[string]jinja.Value{
			"raise_exception": jinja.Func(raiseException),
			"strftime_now": jinja.Func(func(args []jinja.Value, kwargs []jinja.Kwarg) (jinja.Value, error) {
				if len(args) != 1 || len(kwargs) != 0 {
					return nil, errors.New("strftime_now() takes exactly one argument")
				}
				f, ok := args[0].(string)
				if !ok {
					return nil, fmt.Errorf("strftime_now() argument must be str, not %T", args[0])
				}
				return strftime(now(), f), nil
			}),
		},
		Filters: map[string]jinja.Filter{"tojson": tojson},
	}
}

func raiseException(args []jinja.Value, kwargs []jinja.Kwarg) (jinja.Value, error) {
	msg := ""
	if len(args) > 0 {
		if s, ok := args[0].(string); ok {
			msg = s
		} else {
			msg = fmt.Sprint(args[0])
		}
	}
	return nil, &Exception{Message: msg}
}

// tojson is transformers' replacement for jinja2's tojson filter:
// json.dumps(x, ensure_ascii=False, indent=None, separators=None,
// sort_keys=False), returned unescaped.
func tojson(v jinja.Value, args []jinja.Value, kwargs []jinja.Kwarg) (jinja.Value, error) {
	names := []string{"ensure_ascii", "indent", "separators", "sort_keys"}
	vals := []jinja.Value{false, nil, nil, false}
	if len(args) > len(names) {
		return nil, fmt.Errorf("tojson() takes at most %d arguments", len(names))
	}
	copy(vals, args)
	for _, k := range kwargs {
		found := false
		for i, n := range names {
			if n == k.Name {
				vals[i], found = k.Value, true
			}
		}
		if !found {
			return nil, fmt.Errorf("tojson() got an unexpected keyword argument '%s'", k.Name)
		}
	}
	opts := jinja.JSONOptions{Indent: vals[1], EnsureASCII: truthy(vals[0]), SortKeys: truthy(vals[3])}
	if vals[2] != nil {
		l, ok := vals[2].(*jinja.List)
		if !ok || len(l.Items) != 2 {
			return nil, errors.New("tojson() separators must be an (item_separator, key_separator) pair")
		}
		is, ok1 := l.Items[0].(string)
		ks, ok2 := l.Items[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("tojson() separators must be strings")
		}
		opts.Separators = &[2]string{is, ks}
	}
	return jinja.JSON(v, opts)
}

func truthy(v jinja.Value) bool {
	switch x := v.(type) {
	case nil, jinja.Undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	}
	return true
}

// Render renders the template with exactly the given variables (converted
// by jinja.FromGo: use json.RawMessage, or jinja values, where the order of
// object keys matters, as it does for tools rendered with tojson).
func (t *Template) Render(vars map[string]any) (string, error) {
	return t.t.Render(t.env, vars)
}

// Apply renders messages with the standard variables built by Variables,
// as apply_chat_template(messages, tokenize=False, ...) does.
func (t *Template) Apply(messages []Message, opts Options) (string, error) {
	vars, err := Variables(messages, opts)
	if err != nil {
		return "", err
	}
	if !opts.ContinueFinalMessage {
		return t.Render(vars)
	}
	if opts.AddGenerationPrompt {
		return "", errors.New("chat: ContinueFinalMessage and AddGenerationPrompt exclude each other: one continues the last message, the other opens a new assistant turn")
	}
	final, err := tagFinalMessage(vars["messages"].(*jinja.List))
	if err != nil {
		return "", err
	}
	out, err := t.Render(vars)
	if err != nil {
		return "", err
	}
	// Like transformers: the text of the final message was suffixed with a
	// marker; the prompt ends where the marker appears.
	marker := strings.TrimSpace(continueTag)
	if !strings.Contains(out, strings.TrimSpace(final)) || !strings.Contains(out, marker) {
		return "", errors.New("chat: ContinueFinalMessage is set but the final message does not appear in the rendered prompt; this template cannot continue it")
	}
	out, _, _ = strings.Cut(out, marker)
	return out, nil
}

// continueTag is appended to the final message's text to find where it
// ends in the rendered prompt (the text transformers uses).
const continueTag = "CONTINUE_FINAL_MESSAGE_TAG "

// tagFinalMessage appends continueTag to the text of the last message (its
// last text part for multimodal content) and returns the original text.
func tagFinalMessage(msgs *jinja.List) (string, error) {
	if len(msgs.Items) == 0 {
		return "", errors.New("chat: ContinueFinalMessage needs at least one message")
	}
	last, ok := msgs.Items[len(msgs.Items)-1].(*jinja.Dict)
	if !ok {
		return "", errors.New("chat: the final message is not an object")
	}
	content, _ := last.Get("content")
	switch c := content.(type) {
	case string:
		return c, last.Set("content", c+continueTag)
	case *jinja.List:
		for i := len(c.Items) - 1; i >= 0; i-- {
			part, ok := c.Items[i].(*jinja.Dict)
			if !ok {
				continue
			}
			if text, ok := part.Get("text"); ok {
				s, _ := text.(string)
				return s, part.Set("text", s+continueTag)
			}
		}
	}
	return "", errors.New("chat: ContinueFinalMessage is set but the final message has no text to continue")
}
