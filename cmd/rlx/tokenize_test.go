package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// runRLX runs the CLI in-process with args and stdin, returning stdout.
func tokenizeCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetArgs(args)
	rootCmd.SetIn(strings.NewReader(stdin))
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	err := rootCmd.Execute()
	return out.String(), err
}

// TestTokenizeCLI runs rlx tokenize / detokenize on the tiny Unigram
// tokenizer of the tokenizer package's test data.
func TestTokenizeCLI(t *testing.T) {
	tj := filepath.Join("..", "..", "tokenizer", "testdata", "unigram", "tiny.tokenizer.json")
	out, err := tokenizeCLI(t, "ab abc", "tokenize", "--tokenizer", tj)
	if err != nil || out != "[5,1,7]\n" {
		t.Errorf("tokenize: %q, %v", out, err)
	}
	out, err = tokenizeCLI(t, "\"ab\"\n\n\"ca b\"\n", "tokenize", "--tokenizer", tj, "--jsonl")
	if err != nil || out != "[5]\n[1,10,1,3]\n" {
		t.Errorf("tokenize --jsonl: %q, %v", out, err)
	}
	out, err = tokenizeCLI(t, "[5,0,1,7]\n[]\n", "detokenize", "--tokenizer", tj)
	if err != nil || out != "\"ab<unk> abc\"\n\"\"\n" {
		t.Errorf("detokenize: %q, %v", out, err)
	}
	out, err = tokenizeCLI(t, "[5,0,1,7]\n", "detokenize", "--tokenizer", tj, "--skip-special")
	if err != nil || out != "\"ab abc\"\n" {
		t.Errorf("detokenize --skip-special: %q, %v", out, err)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"ab\xff", []string{"tokenize", "--tokenizer", tj, "--jsonl=false"}, "not valid UTF-8"},
		{"ab\n", []string{"tokenize", "--tokenizer", tj, "--jsonl"}, "line 1: want a JSON string"},
		{"[1,99]\n", []string{"detokenize", "--tokenizer", tj, "--skip-special=false"}, "line 1: tokenizer: id 99"},
		{"[1,\"a\"]\n", []string{"detokenize", "--tokenizer", tj}, "line 1: want a JSON array"},
		{"[1.5]\n", []string{"detokenize", "--tokenizer", tj}, "not a token id"},
		{"x", []string{"tokenize", "--tokenizer", filepath.Join(t.TempDir(), "none.json"), "--jsonl=false"}, "no such file"},
	} {
		_, err := tokenizeCLI(t, c.stdin, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v on %q: err = %v, want one mentioning %q", c.args, c.stdin, err, c.want)
		}
	}
}
