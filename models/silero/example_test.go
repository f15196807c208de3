package silero_test

import (
	"context"
	"fmt"

	"github.com/rlx-go/rlx/audio/wav"
	"github.com/rlx-go/rlx/models/silero"
	"github.com/rlx-go/rlx/vad"
)

// Find the speech in a WAV file with the built-in weights.
func Example() {
	a, err := wav.ReadFile("../../testdata/speech-b.wav")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := silero.Default() // embedded weights: no files needed
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := m.Speech(context.Background(), a.Samples, a.SampleRate, vad.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Segments {
		fmt.Printf("%.1f s – %.1f s\n", s.StartS, s.EndS)
	}
	// Output:
	// 0.5 s – 2.8 s
	// 4.0 s – 5.8 s
	// 6.8 s – 7.5 s
}

// Stream audio in chunks of any size, as it arrives.
func ExampleDetector() {
	m, err := silero.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := m.NewDetector(16000)
	if err != nil {
		fmt.Println(err)
		return
	}
	var probs []float32
	chunk := make([]float32, 160) // 10 ms of silence at 16 kHz
	for range 100 {               // one second
		probs = d.Push(probs, chunk)
	}
	fmt.Printf("%d windows of %d samples, first p(speech) < 0.1: %v\n", len(probs), d.WindowSize(), probs[0] < 0.1)
	// Output: 31 windows of 512 samples, first p(speech) < 0.1: true
}

// Report speech as it starts and ends in a live stream.
func ExampleDetector_events() {
	m, err := silero.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := m.NewDetector(16000)
	events, _ := vad.NewStream(16000, d.WindowSize(), vad.DefaultOptions())
	a, err := wav.ReadFile("../../testdata/speech-b.wav")
	if err != nil {
		fmt.Println(err)
		return
	}
	var probs []float32
	for i := 0; i < len(a.Samples); i += 1600 { // 100 ms chunks, as a capture callback gets them
		probs = d.Push(probs[:0], a.Samples[i:min(i+1600, len(a.Samples))])
		for _, p := range probs {
			if e, ok := events.Push(p); ok {
				what := "ends"
				if e.Start {
					what = "starts"
				}
				fmt.Printf("speech %s at %.2f s\n", what, e.Seconds)
			}
		}
	}
	// Output:
	// speech starts at 0.48 s
	// speech ends at 2.81 s
	// speech starts at 4.00 s
	// speech ends at 5.82 s
	// speech starts at 6.79 s
	// speech ends at 7.45 s
}
