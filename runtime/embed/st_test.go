package embed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const modules = `[{"idx":0,"name":"0","path":"0_Transformer","type":"sentence_transformers.models.Transformer"},
 {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
 {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]`

func TestReadFolder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"modules.json": modules,
		"0_Transformer/sentence_bert_config.json": `{"max_seq_length": 128, "do_lower_case": true}`,
		"1_Pooling/config.json":                   `{"pooling_mode_cls_token": false, "pooling_mode_lasttoken": true, "include_prompt": false}`,
		"config_sentence_transformers.json":       `{"prompts": {"query": "query: ", "document": ""}, "default_prompt_name": "query"}`,
	})
	f, err := ReadFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.ModelDir != filepath.Join(dir, "0_Transformer") || f.Pooling != Last || f.IncludePrompt || !f.Normalize ||
		f.MaxSeqLength != 128 || !f.Lowercase || f.DefaultPrompt != "query: " || !f.SentenceTransformers {
		t.Fatalf("%+v", f)
	}
	plain, err := ReadFolder(t.TempDir())
	if err != nil || plain.SentenceTransformers || plain.Pooling != Default || plain.Normalize {
		t.Fatalf("plain folder: %+v %v", plain, err)
	}
}

func TestReadFolderErrors(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"bad json":       {"modules.json": `[{`},
		"escape":         {"modules.json": `[{"path":"../x","type":"sentence_transformers.models.Transformer"}]`},
		"dense":          {"modules.json": `[{"path":"2_Dense","type":"sentence_transformers.models.Dense"}]`},
		"no pooling cfg": {"modules.json": `[{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]`},
		"two modes": {"modules.json": `[{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]`,
			"1_Pooling/config.json": `{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}`},
		"no mode": {"modules.json": `[{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]`,
			"1_Pooling/config.json": `{}`},
		"weighted": {"modules.json": `[{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]`,
			"1_Pooling/config.json": `{"pooling_mode_weightedmean_tokens": true}`},
		"negative max": {"modules.json": `[{"path":"","type":"sentence_transformers.models.Transformer"}]`,
			"sentence_bert_config.json": `{"max_seq_length": -1}`},
	} {
		if _, err := ReadFolder(writeFiles(t, files)); err == nil || !strings.Contains(err.Error(), "embed:") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzReadFolder(f *testing.F) {
	f.Add(modules, `{"pooling_mode_mean_tokens": true}`, `{"max_seq_length": 256}`)
	f.Add(`[]`, `{"pooling_mode": "cls"}`, `{}`)
	f.Fuzz(func(t *testing.T, mods, pooling, st string) {
		dir := t.TempDir()
		for name, body := range map[string]string{"modules.json": mods, "1_Pooling/config.json": pooling,
			"0_Transformer/sentence_bert_config.json": st, "sentence_bert_config.json": st} {
			p := filepath.Join(dir, name)
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.WriteFile(p, []byte(body), 0o644)
		}
		f, err := ReadFolder(dir)
		if err == nil && (f.MaxSeqLength < 0 || !strings.HasPrefix(f.ModelDir, dir)) {
			t.Fatalf("accepted %+v", f)
		}
	})
}
