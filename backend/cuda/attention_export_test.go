package cuda

// DecodeLaunches counts the attention calls that ran as one attn_dec launch.
func DecodeLaunches() int64 { return decLaunches.Load() }

// MMALaunches counts the attention calls that ran on the tensor cores (attn_mma).
func MMALaunches() int64 { return mmaLaunches.Load() }

// SetMMAWarps makes attn_mma blocks of w warps (2 or 4); the returned func
// restores the default.
func SetMMAWarps(w int) (restore func()) {
	old := mmaWarps
	mmaWarps = w
	return func() { mmaWarps = old }
}

// SetMMASplit makes attn_mma split causal rows into pieces of at least
// keys keys (0: never); the returned func restores the default.
func SetMMASplit(keys int) (restore func()) {
	old := mmaSplitKeys
	mmaSplitKeys = keys
	return func() { mmaSplitKeys = old }
}

// SetDecPrefetch turns attn_dec's L2 prefetch before RLX_GRID_WAIT on or
// off; the returned func restores the default.
func SetDecPrefetch(on bool) (restore func()) {
	old := decPrefetch
	decPrefetch = on
	return func() { decPrefetch = old }
}

// SetDecWhole makes attn_dec run key ranges of at most keys keys in one
// block (0: never); the returned func restores the default.
func SetDecWhole(keys int) (restore func()) {
	old := decWhole
	decWhole = keys
	return func() { decWhole = old }
}

// SetDecMode picks the decode kernel: 0 attn_dec, 2 attn_dec2 (the
// default); the returned func restores the default.
func SetDecMode(mode int) (restore func()) {
	old := decMode
	decMode = mode
	return func() { decMode = old }
}

// SetDecThreads sets attn_dec2's threads per block; the returned func
// restores the default.
func SetDecThreads(n int) (restore func()) {
	old := decThreads
	decThreads = n
	return func() { decThreads = old }
}
