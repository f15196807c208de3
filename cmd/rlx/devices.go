package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/spf13/cobra"
)

type deviceReport struct {
	Backend  string   `json:"backend"`
	Arch     string   `json:"arch"`
	Threads  int      `json:"threads"`
	Level    string   `json:"kernel_level"`
	Features []string `json:"features"`
}

func init() {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List compute backends, CPU features and threads",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reps := []deviceReport{{
				Backend:  "cpu",
				Arch:     runtime.GOARCH,
				Threads:  runtime.GOMAXPROCS(0),
				Level:    cpuinfo.Active.String(),
				Features: cpuinfo.Host.Names(),
			}}
			reps = append(reps, cudaReports()...)
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(reps)
			}
			for _, r := range reps {
				fmt.Fprintf(out, "%s  arch=%s threads=%d kernels=%s\n", r.Backend, r.Arch, r.Threads, r.Level)
				fmt.Fprintf(out, "     features: %s\n", strings.Join(r.Features, " "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rootCmd.AddCommand(cmd)
}
