// Command rlx loads model checkpoints (safetensors, GGUF, ONNX) and runs them.
//
// Each subcommand lives in its own file of this package and registers itself
// on rootCmd from init, so families and tools can be added without touching
// the others.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "rlx",
	Short:         "Run model checkpoints (safetensors, GGUF, ONNX) on CPUs and GPUs",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "rlx:", err)
		os.Exit(1)
	}
}
