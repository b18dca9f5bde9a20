//go:build unix

package main

import (
	"syscall"
	"time"
)

// selfUsage returns the CPU time this process has used (all threads, also
// those that ended) and its peak resident set size in KiB.
func selfUsage() (user, sys time.Duration, maxRSSKiB int64, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, 0, err
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), int64(ru.Maxrss), nil
}
