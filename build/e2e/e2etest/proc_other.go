//go:build !unix

package e2etest

import "os/exec"

// killGroup is a no-op where process groups are not available; the default cancel kills node.
func killGroup(*exec.Cmd) {}
