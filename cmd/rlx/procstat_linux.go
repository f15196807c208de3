package main

import "golang.org/x/sys/unix"

// cpuTime is the CPU time, in seconds, that a run on threads threads
// accrues per thread: the calling thread's own clock for one thread, the
// process's divided by threads otherwise. Time spent spinning at barriers
// counts; time the host gave to other processes does not. 0 where the
// platform has no such clock.
func cpuTime(threads int) float64 {
	clock := int32(unix.CLOCK_THREAD_CPUTIME_ID)
	if threads > 1 {
		clock = unix.CLOCK_PROCESS_CPUTIME_ID
	}
	var ts unix.Timespec
	if unix.ClockGettime(clock, &ts) != nil {
		return 0
	}
	return (float64(ts.Sec) + float64(ts.Nsec)*1e-9) / float64(max(threads, 1))
}

// peakRSS is the peak resident set size of this process in bytes (Linux
// reports ru_maxrss in KiB), 0 where unknown.
func peakRSS() int64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return int64(ru.Maxrss) << 10
}
