package rlx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rlx-go/rlx"
)

// stFolder builds a sentence-transformers folder around the MiniLM-shaped
// HF BERT fixture (runtime/embed/testdata/hf-bert), with a WordPiece
// tokenizer.json over its 512 ids, mean pooling and a Normalize module.
func stFolder(t testing.TB, maxSeq int, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("runtime", "embed", "testdata", "hf-bert")
	for _, f := range []string{"config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, f), string(data))
	}
	vocab := map[string]int{}
	for _, s := range []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"} {
		vocab[s] = len(vocab)
	}
	for _, c := range "abcdefghijklmnopqrstuvwxyz.,:!?" {
		vocab[string(c)] = len(vocab)
		vocab["##"+string(c)] = len(vocab)
	}
	for _, w := range strings.Fields("the quick brown fox jumps over lazy dog query passage hello world search ##ing ##ed ##s") {
		if _, ok := vocab[w]; !ok {
			vocab[w] = len(vocab)
		}
	}
	tok := map[string]any{
		"version":        "1.0",
		"added_tokens":   []map[string]any{{"id": 0, "content": "[PAD]", "special": true}, {"id": 1, "content": "[UNK]", "special": true}, {"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true}, {"id": 4, "content": "[MASK]", "special": true}},
		"normalizer":     map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": nil, "lowercase": true},
		"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{"type": "BertProcessing", "sep": []any{"[SEP]", 3}, "cls": []any{"[CLS]", 2}},
		"decoder":        map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model":          map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab},
	}
	data, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "tokenizer.json"), string(data))
	write(t, filepath.Join(dir, "modules.json"), `[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
 {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
 {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]`)
	write(t, filepath.Join(dir, "1_Pooling", "config.json"), `{"word_embedding_dimension":64,"pooling_mode_mean_tokens":true,"pooling_mode_cls_token":false,"pooling_mode_max_tokens":false}`)
	write(t, filepath.Join(dir, "sentence_bert_config.json"), fmt.Sprintf(`{"max_seq_length":%d,"do_lower_case":false}`, maxSeq))
	for name, body := range extra {
		write(t, filepath.Join(dir, name), body)
	}
	return dir
}

func write(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func closeTo(t *testing.T, what string, a, b []float32, tol float64) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: lengths %d and %d", what, len(a), len(b))
	}
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); !(d <= tol) {
			t.Fatalf("%s: element %d: %g vs %g", what, i, a[i], b[i])
		}
	}
}

func TestEmbedderFolder(t *testing.T) {
	ctx := context.Background()
	dir := stFolder(t, 12, nil)
	e, err := rlx.OpenEmbedder(dir, rlx.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Dim() != 64 || e.Pooling() != "mean" || e.MaxSeqLength() != 12 || e.Family() != "bert" {
		t.Fatalf("dim %d pooling %s max %d family %s", e.Dim(), e.Pooling(), e.MaxSeqLength(), e.Family())
	}
	texts := []string{"the quick brown fox", "", "hello world", "searching the lazy dog jumps over the quick brown fox passage"}
	vs, err := e.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if len(v) != 64 || math.Abs(norm(v)-1) > 1e-5 {
			t.Fatalf("text %d: %d values, norm %g (Normalize module)", i, len(v), norm(v))
		}
	}
	// Truncation: [CLS] + 10 tokens + [SEP].
	in, err := e.Tokenize(texts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(in[3].IDs); n != 12 || in[3].IDs[0] != 2 || in[3].IDs[11] != 3 {
		t.Fatalf("long text: %v, want 12 ids from [CLS] to [SEP]", in[3].IDs)
	}
	if ids := in[1].IDs; len(ids) != 2 {
		t.Fatalf("empty text: %v, want [CLS] [SEP]", ids)
	}
	// The same ids embedded alone (batch of one) give the same vector.
	for i := range texts {
		one, err := e.EmbedIDs(ctx, in[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "alone vs batched", one[0], vs[i], 2e-6)
	}
	// Token-level outputs: mean of the token rows, normalised, is the embedding.
	toks, err := e.EmbedTokens(ctx, texts[:1])
	if err != nil {
		t.Fatal(err)
	}
	mean := make([]float32, 64)
	for _, row := range toks[0].Tokens {
		for j, x := range row {
			mean[j] += x / float32(len(toks[0].Tokens))
		}
	}
	n := norm(mean)
	for j := range mean {
		mean[j] = float32(float64(mean[j]) / n)
	}
	closeTo(t, "pooled tokens", mean, vs[0], 1e-5)

	// Options override the folder.
	raw, err := rlx.OpenEmbedder(dir, rlx.WithNormalize(false), rlx.WithPooling("cls"), rlx.WithBatchSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cls, err := raw.Embed(ctx, texts[:1])
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "cls", cls[0], toks[0].Tokens[0], 2e-6)
}

func TestEmbedderPrefix(t *testing.T) {
	ctx := context.Background()
	dir := stFolder(t, 64, map[string]string{
		"config_sentence_transformers.json": `{"prompts":{"query":"query: ","passage":"passage: "},"default_prompt_name":"query"}`,
	})
	def, err := rlx.OpenEmbedder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	explicit, err := rlx.OpenEmbedder(dir, rlx.WithPrefix(""))
	if err != nil {
		t.Fatal(err)
	}
	defer explicit.Close()
	a, err := def.Embed(ctx, []string{"hello world"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := explicit.Embed(ctx, []string{"query: hello world"})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "default prompt", a[0], b[0], 1e-6)
}

func TestEmbedderConcurrent(t *testing.T) {
	ctx := context.Background()
	e, err := rlx.OpenEmbedder(stFolder(t, 32, nil), rlx.WithBatchSize(3))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	words := strings.Fields("the quick brown fox jumps over lazy dog hello world search passage")
	jobs := make([][]string, 8)
	for g := range jobs {
		for i := range 5 + g {
			jobs[g] = append(jobs[g], strings.Join(words[(g+i)%len(words):], " "))
		}
	}
	want := make([][][]float32, len(jobs))
	for g, texts := range jobs {
		if want[g], err = e.Embed(ctx, texts); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(jobs)*3)
	for range 3 {
		for g, texts := range jobs {
			wg.Go(func() {
				got, err := e.Embed(ctx, texts)
				if err != nil {
					errs <- err
					return
				}
				for i := range got {
					for j := range got[i] {
						if got[i][j] != want[g][i][j] {
							errs <- fmt.Errorf("job %d text %d differs under concurrency", g, i)
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestEmbedderErrors(t *testing.T) {
	dir := stFolder(t, 16, nil)
	// A decoder checkpoint is not an encoder.
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "config.json"), strings.Replace(strings.Replace(string(cfg), `"bert"`, `"llama"`, 1), `"BertModel"`, `"LlamaForCausalLM"`, 1))
	if _, err := rlx.OpenEmbedder(dir); !errors.Is(err, rlx.ErrUnsupported) || !strings.Contains(err.Error(), "not a text encoder") {
		t.Fatalf("llama checkpoint: %v", err)
	}
	dir = stFolder(t, 16, map[string]string{"modules.json": `[{"path":"","type":"sentence_transformers.models.Transformer"},{"path":"2_Dense","type":"sentence_transformers.models.Dense"}]`})
	if _, err := rlx.OpenEmbedder(dir); err == nil || !strings.Contains(err.Error(), "Dense") {
		t.Fatalf("Dense module: %v", err)
	}
	if _, err := rlx.OpenEmbedder(stFolder(t, 16, nil), rlx.WithPooling("median")); err == nil {
		t.Fatal("pooling median accepted")
	}
	e, err := rlx.OpenEmbedder(stFolder(t, 16, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	for _, in := range [][]rlx.TokenInput{{{IDs: nil}}, {{IDs: []int32{2, 9999, 3}}}, {{IDs: []int32{2, 3}, Types: []int32{0}}}, {{IDs: make([]int32, 65)}}} {
		if _, err := e.EmbedIDs(ctx, in); err == nil {
			t.Fatalf("input %v accepted", in)
		}
	}
}

// TestEmbedderGGUFTokenizer opens the NomicBERT GGUF (WordPiece vocabulary
// in llama.cpp's layout) by path, tokenizes the texts llama.cpp was given
// and checks the ids and the embedding.
func TestEmbedderGGUFTokenizer(t *testing.T) {
	dir := filepath.Join("runtime", "embed", "testdata", "gguf-nomic_bert")
	var ref struct {
		Rows []struct {
			IDs   []int32   `json:"ids"`
			Text  string    `json:"text"`
			Llama []float32 `json:"llama_cpp_mean"`
		} `json:"rows"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	e, err := rlx.OpenEmbedder(filepath.Join(dir, "nomic-bert-f32.gguf"), rlx.WithNormalize(true))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Family() != "nomic_bert" || e.Pooling() != "mean" {
		t.Fatalf("family %s pooling %s", e.Family(), e.Pooling())
	}
	for _, r := range ref.Rows {
		in, err := e.Tokenize([]string{r.Text})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(in[0].IDs) != fmt.Sprint(r.IDs) {
			t.Fatalf("%q: ids %v, want %v", r.Text, in[0].IDs, r.IDs)
		}
		v, err := e.Embed(context.Background(), []string{r.Text})
		if err != nil {
			t.Fatal(err)
		}
		want := append([]float32(nil), r.Llama...)
		n := norm(want)
		for i := range want {
			want[i] = float32(float64(want[i]) / n)
		}
		closeTo(t, "vs llama.cpp", v[0], want, 1e-4)
	}
}

// A GGUF without a vocabulary (tokenizer.ggml.model "none") takes ids only.
func TestEmbedderNoTokenizer(t *testing.T) {
	e, err := rlx.OpenEmbedder(filepath.Join("runtime", "embed", "testdata", "gguf-bert", "bert-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Embed(ctx, []string{"x"}); !errors.Is(err, rlx.ErrNoTokenizer) {
		t.Fatalf("Embed without a tokenizer: %v", err)
	}
	vs, err := e.EmbedIDs(ctx, []rlx.TokenInput{{IDs: []int32{1, 5, 9}}, {IDs: []int32{7}}})
	if err != nil || len(vs) != 2 || len(vs[0]) != e.Dim() {
		t.Fatalf("%v %v", len(vs), err)
	}
	if e.Pooling() != "mean" { // the file's pooling_type 1
		t.Fatal(e.Pooling())
	}
}
