package cuda

// DecodeLaunches counts the attention calls that ran as one attn_dec launch.
func DecodeLaunches() int64 { return decLaunches.Load() }

// MMALaunches counts the attention calls that ran on the tensor cores (attn_mma).
func MMALaunches() int64 { return mmaLaunches.Load() }
