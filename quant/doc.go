// Package quant implements the block-quantized weight formats of GGUF files:
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, the K-quants Q2_K…Q6_K and Q8_K, and the
// non-linear IQ4_NL and IQ4_XS.
//
// It offers three things:
//
//   - Dequantize decodes any supported type to float32, bit for bit as
//     llama.cpp's reference dequantizers do (same arithmetic, same order).
//   - Quantize encodes float32 into Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K,
//     Q3_K, Q4_K, Q5_K, Q6_K and Q8_K, byte for byte as llama.cpp's reference
//     quantizers do when no importance matrix is given (what llama-quantize
//     writes for these types).
//   - Matrix multiplies float32 activations by a quantized weight matrix
//     without dequantizing it: activations are quantized to 8 bits per
//     block and the dot products run on integers (AVX-512 VNNI or AVX2 on
//     amd64, portable Go elsewhere). This is the DequantMatMul kernel of the
//     CPU backend, for GEMV (decode) and GEMM (prefill).
//
// Block layouts follow ggml's structs exactly (little-endian, packed); the
// byte sizes come from the tensor package (tensor.DType.BlockBytes).
package quant
