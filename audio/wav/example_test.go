package wav_test

import (
	"fmt"

	"github.com/rlx-go/rlx/audio/wav"
)

func ExampleReadFile() {
	a, err := wav.ReadFile("testdata/speech-b.wav")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d Hz, %d channel(s), %d-bit, %.2f s\n", a.SampleRate, a.Channels, a.BitsPerSample, a.Duration())
	// Output: 16000 Hz, 1 channel(s), 16-bit, 8.03 s
}
