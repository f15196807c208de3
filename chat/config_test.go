package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFromTokenizerConfigForms(t *testing.T) {
	cfg, err := FromTokenizerConfig([]byte(`{
		"chat_template": [{"name": "default", "template": "D{{ bos_token }}"}, {"name": "tool_use", "template": "T{{ eos_token }}"}],
		"bos_token": {"content": "<s>", "lstrip": false, "__type": "AddedToken"},
		"eos_token": "</s>", "pad_token": null, "unk_token": "<unk>"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Names(), ","); got != "default,tool_use" {
		t.Fatalf("names %q", got)
	}
	if _, ok := cfg.SpecialTokens["pad_token"]; ok {
		t.Error("a null pad_token was kept")
	}
	for name, want := range map[string]string{"": "D<s>", "default": "D<s>", "tool_use": "T</s>"} {
		tmpl, err := cfg.Template(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Apply(nil, cfg.Options())
		if err != nil || got != want {
			t.Errorf("template %q: %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := cfg.Template("nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown template name: %v", err)
	}
	if o := cfg.Options(); o.Vars["unk_token"] != "<unk>" || o.BOSToken != "<s>" || o.EOSToken != "</s>" {
		t.Errorf("options %+v", o)
	}
	for _, bad := range []string{`[`, `{"chat_template": 5}`, `{"chat_template": [{"name": "x"}]}`, `{"bos_token": 3}`} {
		if _, err := FromTokenizerConfig([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	empty, err := FromTokenizerConfig([]byte(`{"chat_template": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Template(""); err == nil || !strings.Contains(err.Error(), "no chat_template") {
		t.Errorf("config without a template: %v", err)
	}
}

func TestLoadConfigFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadConfig(dir); err == nil {
		t.Fatal("an empty folder loaded")
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	write("tokenizer_config.json", `{"chat_template": "from config", "eos_token": "</s>"}`)
	render := func() string {
		t.Helper()
		cfg, err := LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := cfg.Template("")
		if err != nil {
			t.Fatal(err)
		}
		out, err := tmpl.Apply(nil, cfg.Options())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := render(); got != "from config" {
		t.Fatalf("got %q", got)
	}
	// As in transformers, a chat_template.json, and above it a
	// chat_template.jinja, replace the configuration's template.
	write("chat_template.json", `{"chat_template": "from json {{ eos_token }}"}`)
	if got := render(); got != "from json </s>" {
		t.Fatalf("got %q", got)
	}
	write("chat_template.jinja", "from jinja {{ eos_token }}\n")
	if got := render(); got != "from jinja </s>" {
		t.Fatalf("got %q", got)
	}
	write("tokenizer_config.json", `{"chat_template": `)
	if _, err := LoadConfig(dir); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Fatalf("bad config: %v", err)
	}
}

// TestStrftime compares with Python's datetime.strftime (glibc, C locale)
// on two instants; the expected strings were printed by Python 3.11.
func TestStrftime(t *testing.T) {
	const f = "%a %A %w %d %e %b %h %B %m %y %Y %H %I %p %M %S %f %j %U %W %D %F %T %R %% %-d/%-m/%-H %x %X %c"
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 3, 7, 14, 5, 9, 123456000, time.UTC), "Fri Friday 5 07  7 Mar Mar March 03 25 2025 14 02 PM 05 09 123456 066 09 09 03/07/25 2025-03-07 14:05:09 14:05 % 7/3/14 03/07/25 14:05:09 Fri Mar  7 14:05:09 2025"},
		{time.Date(2024, 12, 31, 0, 0, 1, 0, time.UTC), "Tue Tuesday 2 31 31 Dec Dec December 12 24 2024 00 12 AM 00 01 000000 366 52 53 12/31/24 2024-12-31 00:00:01 00:00 % 31/12/0 12/31/24 00:00:01 Tue Dec 31 00:00:01 2024"},
	} {
		if got := strftime(tc.t, f); got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.t, got, tc.want)
		}
	}
	tmpl, err := Parse(`{{ strftime_now("%d %b %Y") }}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.WithClock(func() time.Time { return time.Date(2024, 7, 26, 9, 0, 0, 0, time.UTC) }).Render(nil)
	if err != nil || out != "26 Jul 2024" {
		t.Fatalf("%q %v", out, err)
	}
}
