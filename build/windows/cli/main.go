//go:build windows

// Command cli is gemini-balance-desktop.com, the console twin of the GUI
// exe, installed beside it. cmd and PowerShell try .com before .exe, so
// typing `gemini-balance-desktop access-key` runs this console program: the
// shell waits for it, its output lands in order, and %ERRORLEVEL% /
// $LASTEXITCODE get the command's exit code — none of which a GUI program
// started from a shell gets. It runs gemini-balance-desktop.exe with this
// console's handles and waits; a command-less start (the window) is
// handed to the exe without waiting.
//
//	GOOS=windows go build -o gemini-balance-desktop.com ./build/windows/cli
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/gemini-balance/desktop/app/cmdline"
)

func main() {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	gui := strings.TrimSuffix(self, filepath.Ext(self)) + ".exe"
	args := os.Args[1:]
	cmd := exec.Command(gui, args...)
	if !cmdline.WantsConsole(args) {
		// The window: start it and give the prompt back.
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Ctrl+C reaches the exe too (it attaches to this console): wait for
	// it to shut down instead of dying first.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
