package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/rlx-go/rlx/audio/wav"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/models/silero"
	"github.com/rlx-go/rlx/vad"
	"github.com/spf13/cobra"
)

type vadFlags struct {
	opts   vad.Options
	json   bool
	probs  bool
	engine string
}

func init() {
	f := vadFlags{opts: vad.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "vad FILE.wav|-",
		Short: "Find the speech in a WAV file (Silero VAD v5, weights built in)",
		Long: `vad runs Silero VAD v5 over a WAV file and prints its speech segments as
start and end times in seconds. The model's weights are embedded in rlx, so
nothing needs to be downloaded.

The audio may be PCM (8/16/24/32-bit) or float, mono or multichannel (mixed
to mono), at any sample rate: 8 kHz runs the model's 8 kHz branch, other rates
are resampled to 16 kHz. Segments follow silero-vad's get_speech_timestamps;
the flags are its knobs. "-" reads the WAV from standard input.`,
		Example: `  rlx vad testdata/speech.wav
  rlx vad --threshold 0.6 --min-silence-ms 300 --json meeting.wav
  rlx vad --probs testdata/speech.wav
  sox in.mp3 -t wav - | rlx vad -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVAD(cmd, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.opts.Threshold, "threshold", f.opts.Threshold, "speech probability at which speech starts")
	fl.Float64Var(&f.opts.NegThreshold, "neg-threshold", 0, "probability below which speech ends (0: threshold - 0.15)")
	fl.Float64Var(&f.opts.MinSpeechMs, "min-speech-ms", f.opts.MinSpeechMs, "drop segments of this length or shorter")
	fl.Float64Var(&f.opts.MinSilenceMs, "min-silence-ms", f.opts.MinSilenceMs, "silence needed to end a segment")
	fl.Float64Var(&f.opts.SpeechPadMs, "speech-pad-ms", f.opts.SpeechPadMs, "padding added to each side of a segment")
	fl.Float64Var(&f.opts.MaxSpeechS, "max-speech-s", 0, "split segments longer than this (0: no limit)")
	fl.BoolVar(&f.json, "json", false, "print the segments as JSON")
	fl.BoolVar(&f.probs, "probs", false, "print the per-window speech probabilities as JSON")
	fl.StringVar(&f.engine, "engine", "graph", "how to run the model: graph (the rlx IR graph on the CPU backend) or kernels (the model package's fused kernels)")
	rootCmd.AddCommand(cmd)
}

type vadSegmentJSON struct {
	Start       float64 `json:"start"`
	End         float64 `json:"end"`
	StartSample int     `json:"start_sample"`
	EndSample   int     `json:"end_sample"`
}

type vadJSON struct {
	File            string           `json:"file"`
	Duration        float64          `json:"duration_s"`
	InputRate       int              `json:"input_sample_rate"`
	SampleRate      int              `json:"sample_rate"`
	Window          int              `json:"window"`
	Context         int              `json:"context"`
	Segments        []vadSegmentJSON `json:"segments"`
	SpeechS         float64          `json:"speech_s"`
	Probabilities   []float32        `json:"probabilities,omitempty"`
	ProbabilityHopS float64          `json:"probability_hop_s,omitempty"`
}

func runVAD(cmd *cobra.Command, path string, f *vadFlags) error {
	var a *wav.Audio
	var err error
	if path == "-" {
		a, err = wav.Read(cmd.InOrStdin())
		path = "stdin"
	} else {
		a, err = wav.ReadFile(path)
	}
	if err != nil {
		if errors.Is(err, wav.ErrFormat) {
			return fmt.Errorf("vad: %w (rlx vad reads WAV files; convert other formats first, e.g. with ffmpeg -i IN -ar 16000 OUT.wav)", err)
		}
		return fmt.Errorf("vad: %w", err)
	}
	m, err := silero.Default()
	if err != nil {
		return fmt.Errorf("vad: loading the embedded model: %w", err)
	}
	var opts []silero.DetectorOption
	switch f.engine {
	case "kernels":
	case "graph":
		// One window is far too small to share between threads.
		opts = append(opts, silero.OnBackend(cpu.New(cpu.Options{Pool: parallel.New(1)})))
	default:
		return fmt.Errorf("vad: unknown --engine %q (want kernels or graph)", f.engine)
	}
	ctx := cmd.Context()
	if ctx == nil { // a command run without Execute (e.g. dispatched by hand) has none
		ctx = context.Background()
	}
	res, err := m.Speech(ctx, a.Samples, a.SampleRate, f.opts, opts...)
	if err != nil {
		return fmt.Errorf("vad: %s: %w", path, err)
	}
	out := vadJSON{
		File: filepath.Base(path), Duration: a.Duration(), InputRate: a.SampleRate,
		SampleRate: res.SampleRate, Window: res.Window, Context: res.Context, Segments: []vadSegmentJSON{},
	}
	for _, s := range res.Segments {
		out.Segments = append(out.Segments, vadSegmentJSON{round3(s.StartS), round3(s.EndS), s.Start, s.End})
		out.SpeechS += s.EndS - s.StartS
	}
	out.SpeechS = round3(out.SpeechS)
	w := cmd.OutOrStdout()
	if f.probs {
		out.Probabilities = res.Probabilities
		out.ProbabilityHopS = float64(res.Window) / float64(res.SampleRate)
	}
	if f.json || f.probs {
		enc := json.NewEncoder(w)
		if !f.probs {
			enc.SetIndent("", "  ")
		}
		return enc.Encode(out)
	}
	printVAD(w, a, &out)
	return nil
}

func printVAD(w io.Writer, a *wav.Audio, out *vadJSON) {
	resampled := ""
	if out.InputRate != out.SampleRate {
		resampled = fmt.Sprintf(", resampled to %d Hz", out.SampleRate)
	}
	fmt.Fprintf(w, "%s: %.2f s, %d Hz, %d channel(s)%s; Silero VAD v5, %d windows of %d samples\n",
		out.File, out.Duration, out.InputRate, a.Channels, resampled, (len(a.Samples)*out.SampleRate/out.InputRate+out.Window-1)/out.Window, out.Window)
	if len(out.Segments) == 0 {
		fmt.Fprintln(w, "no speech found")
		return
	}
	fmt.Fprintf(w, "%d speech segment(s), %.2f s of speech:\n", len(out.Segments), out.SpeechS)
	for _, s := range out.Segments {
		fmt.Fprintf(w, "  %8.3f s  -> %8.3f s   (%.3f s)\n", s.Start, s.End, s.End-s.Start)
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
