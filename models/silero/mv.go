package silero

// mvTGo is the portable matrix kernel behind every layer of the model:
//
//	out[j*ldo + r] = Σ_{k<n} w[r*ldw + k] · x[j*ldx + k]   for r < rows, j < nx.
//
// Each x_j is a contiguous run of n inputs (an STFT frame, or three
// neighbouring time steps of all channels for a 3-tap convolution), so
// convolutions need no im2col copy. Up to four x_j share each weight row,
// which halves to quarters the weight traffic that bounds this model.
func mvTGo(out []float32, ldo int, w []float32, ldw, rows int, x []float32, ldx, nx, n int) {
	for j0 := 0; j0 < nx; j0 += 4 {
		m := min(4, nx-j0)
		switch m {
		case 4:
			x0, x1, x2, x3 := x[j0*ldx:][:n], x[(j0+1)*ldx:][:n], x[(j0+2)*ldx:][:n], x[(j0+3)*ldx:][:n]
			for r := range rows {
				wr := w[r*ldw:][:n]
				var s0, s1, s2, s3 float32
				for k, wv := range wr {
					s0 += wv * x0[k]
					s1 += wv * x1[k]
					s2 += wv * x2[k]
					s3 += wv * x3[k]
				}
				out[j0*ldo+r], out[(j0+1)*ldo+r], out[(j0+2)*ldo+r], out[(j0+3)*ldo+r] = s0, s1, s2, s3
			}
		default:
			for j := j0; j < j0+m; j++ {
				xj := x[j*ldx:][:n]
				for r := range rows {
					wr := w[r*ldw:][:n]
					var s0, s1, s2, s3 float32
					k := 0
					for ; k+4 <= n; k += 4 {
						s0 += wr[k] * xj[k]
						s1 += wr[k+1] * xj[k+1]
						s2 += wr[k+2] * xj[k+2]
						s3 += wr[k+3] * xj[k+3]
					}
					for ; k < n; k++ {
						s0 += wr[k] * xj[k]
					}
					out[j*ldo+r] = (s0 + s1) + (s2 + s3)
				}
			}
		}
	}
}
