package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestBenchVAD(t *testing.T) {
	for _, engine := range []string{"kernels", "graph"} {
		var out bytes.Buffer
		rootCmd.SetOut(&out)
		rootCmd.SetArgs([]string{"bench", "vad", "--seconds", "1", "--runs", "2", "--json", "--engine", engine})
		err := rootCmd.Execute()
		rootCmd.SetArgs(nil)
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		var r vadBenchReport
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v\n%s", engine, err, out.String())
		}
		if r.Engine != engine || r.Windows != 31 || len(r.WallS) != 2 || r.RealtimeX <= 0 {
			t.Errorf("%s: %+v", engine, r)
		}
	}
}
