//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

// dieWithParent has no equivalent here; children still exit when their
// stdin closes.
func dieWithParent(cmd *exec.Cmd) {}

// memStatus needs /proc.
func memStatus(pid int) (memInfo, error) {
	return memInfo{}, errors.New("RSS is read from /proc, which this system does not have")
}

// resetPeak needs /proc.
func resetPeak(pid int) error {
	return errors.New("no /proc")
}
