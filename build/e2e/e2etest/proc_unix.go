//go:build unix

package e2etest

import (
	"os/exec"
	"syscall"
)

// killGroup runs the command in its own process group and, on timeout, kills the whole
// group: node may have started Chromium, which must not outlive the test.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
