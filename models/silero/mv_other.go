//go:build !amd64 || purego

package silero

func mvT(out []float32, ldo int, w []float32, ldw, rows int, x []float32, ldx, nx, n int) {
	mvTGo(out, ldo, w, ldw, rows, x, ldx, nx, n)
}
