//go:build !(desktop && linux)

package main

// handOver is done by Wails' single-instance lock on this platform.
func handOver() bool { return false }
