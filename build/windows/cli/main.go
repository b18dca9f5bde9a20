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
	if !wantsConsole(args) {
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

// wantsConsole is the rule of the exe's console.go: a command, --help or
// --headless prints (and is waited for); anything else opens the window.
func wantsConsole(args []string) bool {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return true
	}
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case a == "--":
			return false
		case !strings.HasPrefix(a, "-"):
			continue
		case name == "h" || name == "help" || name == "headless":
			return true
		}
	}
	return false
}
