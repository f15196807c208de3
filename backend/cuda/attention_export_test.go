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
