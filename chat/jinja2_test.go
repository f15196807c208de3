package chat

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rlx-go/rlx/chat/jinja"
	"github.com/rlx-go/rlx/internal/gztest"
)

// jinja2Now is the clock gen.py gives strftime_now.
var jinja2Now = time.Date(2025, 3, 7, 14, 5, 9, 0, time.UTC)

type jinja2Case struct {
	Name         string          `json:"name"`
	Template     string          `json:"template"`
	TemplateFile string          `json:"template_file"`
	Vars         json.RawMessage `json:"vars"`
	Rendered     *string         `json:"rendered"`
	Error        *string         `json:"error"`
}

func loadJinja2Cases(t testing.TB, path string) []jinja2Case {
	t.Helper()
	var fx struct {
		Cases []jinja2Case `json:"cases"`
	}
	if err := json.Unmarshal(gztest.Read(t, path), &fx); err != nil {
		t.Fatal(err)
	}
	return fx.Cases
}

func varsFromJSON(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	v, err := jinja.FromJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*jinja.Dict)
	m := make(map[string]any, d.Len())
	for i, k := range d.Keys() {
		m[k.(string)] = d.Values()[i]
	}
	return m
}

// TestJinja2Differential compares with Python jinja2 3.1.6 set up as
// transformers sets it up (testdata/jinja2/gen.py) on templates that
// exercise each feature. Where jinja2 raises, we must return an error;
// raise_exception's message must match exactly.
func TestJinja2Differential(t *testing.T) {
	cases := loadJinja2Cases(t, "testdata/jinja2/cases.json.gz")
	if len(cases) < 150 {
		t.Fatalf("only %d cases", len(cases))
	}
	checkJinja2Cases(t, cases)
}

// TestJinja2RealTemplates renders the 14 real templates on many
// conversations (tools, tool calls, reasoning, multimodal content, null
// content, enable_thinking, bad role orders) and compares with jinja2.
func TestJinja2RealTemplates(t *testing.T) {
	cases := loadJinja2Cases(t, "testdata/jinja2/templates.json.gz")
	if len(cases) < 500 {
		t.Fatalf("only %d cases", len(cases))
	}
	resolveTemplateFiles(t, cases)
	checkJinja2Cases(t, cases)
}

// TestJinja2MessyConversations renders the real templates on random,
// messy conversations (testdata/jinja2/messy.py): odd role orders, None
// and list content, string tool arguments; about 40% raise, and so must we.
func TestJinja2MessyConversations(t *testing.T) {
	cases := loadJinja2Cases(t, "testdata/jinja2/messy.json.gz")
	if len(cases) < 400 {
		t.Fatalf("only %d cases", len(cases))
	}
	resolveTemplateFiles(t, cases)
	checkJinja2Cases(t, cases)
}

// resolveTemplateFiles loads each case's template_file (a .jinja file, or
// a tokenizer_config.json's chat_template).
func resolveTemplateFiles(t *testing.T, cases []jinja2Case) {
	t.Helper()
	srcs := map[string]string{}
	for i := range cases {
		c := &cases[i]
		src, ok := srcs[c.TemplateFile]
		if !ok {
			data, err := os.ReadFile("testdata/" + c.TemplateFile)
			if err != nil {
				t.Fatal(err)
			}
			src = string(data)
			if strings.HasSuffix(c.TemplateFile, ".json") {
				cfg, err := FromTokenizerConfig(data)
				if err != nil {
					t.Fatal(err)
				}
				src = cfg.Templates["default"]
			}
			srcs[c.TemplateFile] = src
		}
		c.Template = src
	}
}

func checkJinja2Cases(t *testing.T, cases []jinja2Case) {
	t.Helper()
	for _, c := range cases {
		tmpl, err := Parse(c.Template)
		var got string
		if err == nil {
			got, err = tmpl.WithClock(func() time.Time { return jinja2Now }).Render(varsFromJSON(t, c.Vars))
		}
		if c.Error != nil {
			if err == nil {
				t.Errorf("%s: jinja2 raised %q; we rendered %q", c.Name, *c.Error, got)
				continue
			}
			if msg, ok := strings.CutPrefix(*c.Error, "TemplateError: "); ok {
				var exc *Exception
				if !errors.As(err, &exc) || exc.Message != msg {
					t.Errorf("%s: want raise_exception(%q), got %v", c.Name, msg, err)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v\ntemplate: %q", c.Name, err, c.Template)
			continue
		}
		if got != *c.Rendered {
			t.Errorf("%s:\n got %q\nwant %q\ntemplate: %q", c.Name, got, *c.Rendered, c.Template)
		}
	}
}
