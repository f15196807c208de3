// Package audio holds what models need to turn sound files into the sample
// streams they expect: WAV decoding (audio/wav) and band-limited resampling
// (audio/resample). Samples are float32 in [-1, 1], mono.
package audio
