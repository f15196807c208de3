package kernels

import "fmt"

// Elem is an element type the layout kernels move.
type Elem interface {
	~float32 | ~uint16 | ~int32 | ~int64 | ~uint8 | ~int8
}

// CopyStrided copies the index space shape from src to dst, where element
// (i0, i1, …) lives at Σ ik·srcStrides[k] in src and Σ ik·dstStrides[k] in dst.
// It covers permute/transpose (permuted strides), slice (an offset src with
// the parent's strides), concat and pad (an offset dst view), and broadcast
// (stride 0 in src). Dimensions that are contiguous in both are merged, the
// innermost contiguous run is a memmove, and a swap of the two innermost axes
// goes through cache-sized tiles. To split the work, call it on slices of
// the outermost dimension (offset both slices by lo·stride[0], shape[0] =
// hi−lo).
func CopyStrided[T Elem](dst []T, dstStrides []int, src []T, srcStrides []int, shape []int) {
	if len(shape) != len(dstStrides) || len(shape) != len(srcStrides) {
		panic(fmt.Sprintf("kernels: CopyStrided rank mismatch %d/%d/%d", len(shape), len(dstStrides), len(srcStrides)))
	}
	sh, ds, ss := mergeDims(shape, dstStrides, srcStrides)
	for _, n := range sh {
		if n == 0 {
			return
		}
	}
	copyRec(dst, ds, src, ss, sh)
}

// mergeDims drops size-1 dimensions and merges neighbours that are
// contiguous in both views.
func mergeDims(shape, ds, ss []int) ([]int, []int, []int) {
	var sh, d, s []int
	for k := range shape {
		if shape[k] == 1 {
			continue
		}
		if n := len(sh); n > 0 && d[n-1] == ds[k]*shape[k] && s[n-1] == ss[k]*shape[k] {
			sh[n-1] *= shape[k]
			d[n-1], s[n-1] = ds[k], ss[k]
			continue
		}
		sh, d, s = append(sh, shape[k]), append(d, ds[k]), append(s, ss[k])
	}
	if len(sh) == 0 {
		return []int{1}, []int{1}, []int{1}
	}
	return sh, d, s
}

func copyRec[T Elem](dst []T, ds []int, src []T, ss []int, sh []int) {
	nd := len(sh)
	switch {
	case nd == 1:
		n, a, b := sh[0], ds[0], ss[0]
		switch {
		case a == 1 && b == 1:
			copy(dst[:n], src[:n])
		case b == 0:
			v := src[0]
			for i := range n {
				dst[i*a] = v
			}
		default:
			for i := range n {
				dst[i*a] = src[i*b]
			}
		}
		return
	case nd == 2 && ds[1] == 1 && ss[0] == 1 && ss[1] != 0 && ds[0] != 0:
		transposeTiles(dst, ds[0], src, ss[1], sh[0], sh[1])
		return
	}
	for i := range sh[0] {
		copyRec(dst[i*ds[0]:], ds[1:], src[i*ss[0]:], ss[1:], sh[1:])
	}
}

// transposeTiles copies an r×c block where dst is row-major (row stride dr)
// and src is column-major (column stride sc): dst[i·dr+j] = src[j·sc+i].
func transposeTiles[T Elem](dst []T, dr int, src []T, sc int, r, c int) {
	const tile = 32
	for i0 := 0; i0 < r; i0 += tile {
		i1 := min(i0+tile, r)
		for j0 := 0; j0 < c; j0 += tile {
			j1 := min(j0+tile, c)
			for i := i0; i < i1; i++ {
				row := dst[i*dr:]
				for j := j0; j < j1; j++ {
					row[j] = src[j*sc+i]
				}
			}
		}
	}
}

// Fill sets every element of dst to v (the background of a pad).
func Fill[T Elem](dst []T, v T) {
	for i := range dst {
		dst[i] = v
	}
}

// ContiguousStrides returns the row-major element strides of shape.
func ContiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for k := len(shape) - 1; k >= 0; k-- {
		st[k] = s
		s *= shape[k]
	}
	return st
}

// Permute copies src (contiguous, shape) into dst (contiguous) with the axes
// reordered: dst axis k is src axis perm[k].
func Permute[T Elem](dst, src []T, shape []int, perm []int) {
	ss := ContiguousStrides(shape)
	out := make([]int, len(perm))
	ps := make([]int, len(perm))
	for k, p := range perm {
		out[k] = shape[p]
		ps[k] = ss[p]
	}
	CopyStrided(dst, ContiguousStrides(out), src, ps, out)
}
