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
func memStatus(pid int) (rssKiB, hwmKiB int64, err error) {
	return 0, 0, errors.New("RSS is read from /proc, which this system does not have")
}
