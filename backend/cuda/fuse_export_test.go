package cuda

// SetFusion turns the launch-list fusion pass (fuse.go) on or off for
// lists run from now on; the returned func restores the setting.
func SetFusion(on bool) (restore func()) {
	mode := 0
	if on {
		mode = fuseAll
	}
	old := fuseMode
	fuseMode = mode
	return func() { fuseMode = old }
}

// SetFuseMode sets the fusions made from now on, spelled as RLX_CUDA_FUSE
// spells them; the returned func restores the setting.
func SetFuseMode(spec string) (restore func()) {
	old := fuseMode
	fuseMode = fuseModeOf(spec)
	return func() { fuseMode = old }
}

// SetFuseRowsScale multiplies the fused GEMVs' rows per block; the
// returned func restores it.
func SetFuseRowsScale(n int) (restore func()) {
	old, oldPair := fuseRowsScale, fusePairRowsScale
	fuseRowsScale, fusePairRowsScale = n, n
	return func() { fuseRowsScale, fusePairRowsScale = old, oldPair }
}
