//go:build !linux

package main

// cpuTime has no per-thread clock to read here; benchmarks report wall
// time only.
func cpuTime(threads int) float64 { return 0 }

// peakRSS is unknown here.
func peakRSS() int64 { return 0 }
