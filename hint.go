package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// hinter writes command lines the user can paste as printed: this
// binary's real path (or its bare name when PATH finds the same file),
// the flags that reach the same data dir and passphrase, each argument
// quoted for the shell of the platform — POSIX sh on Unix, PowerShell on
// Windows (the default shell of Windows Terminal; a plain path with no
// space or special character is printed bare and then also works in cmd).
type hinter struct {
	goos  string
	exe   string   // the program as it should be typed
	flags []string // flags every command needs (--data-dir, --passphrase-file)
	// envNote is appended when a passphrase comes from the environment
	// (it cannot be printed).
	envNote string
}

// newHinter returns the hinter of this process for the options o.
func newHinter(goos string, o options) hinter {
	h := hinter{goos: goos, exe: programName()}
	if o.dataDir != "" {
		d := o.dataDir
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		h.flags = append(h.flags, "--data-dir", d)
	}
	if o.passFile != "" {
		p := o.passFile
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		h.flags = append(h.flags, "--passphrase-file", p)
	} else if os.Getenv("GBD_PASSPHRASE") != "" {
		h.envNote = "   (with GBD_PASSPHRASE set as now)"
	}
	return h
}

// programName is how to run this binary: its bare name when PATH leads to
// it, its absolute path otherwise. On Windows the console twin
// gemini-balance-desktop.com installed beside the exe is named instead
// when it is there (its output comes in order and it sets the exit code).
func programName() string {
	exe, err := os.Executable()
	if err != nil {
		return filepath.Base(os.Args[0])
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	if runtime.GOOS == "windows" && strings.EqualFold(filepath.Ext(exe), ".exe") {
		if com := strings.TrimSuffix(exe, filepath.Ext(exe)) + ".com"; fileExists(com) {
			exe = com
		}
	}
	stem := strings.TrimSuffix(filepath.Base(exe), filepath.Ext(exe))
	if runtime.GOOS != "windows" {
		stem = filepath.Base(exe)
	}
	if found, err := exec.LookPath(stem); err == nil {
		if r, err := filepath.EvalSymlinks(found); err == nil && sameFile(r, exe) {
			return stem
		}
	}
	return exe
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// cmd returns the command line running this binary with args.
func (h hinter) cmd(args ...string) string {
	return h.line(args, h.flags) + h.envNote
}

// line joins the program, args and flags, quoted.
func (h hinter) line(args, flags []string) string {
	parts := []string{h.quote(h.exe)}
	for _, a := range append(append([]string{}, args...), flags...) {
		parts = append(parts, h.quote(a))
	}
	s := strings.Join(parts, " ")
	if h.goos == "windows" && strings.HasPrefix(parts[0], "'") {
		// PowerShell runs a quoted program name only with the call operator.
		s = "& " + s
	}
	return s
}

// quote quotes s for the target shell when it needs it.
func (h hinter) quote(s string) string {
	if h.goos == "windows" {
		return quotePowerShell(s)
	}
	return quotePOSIX(s)
}

// quotePOSIX quotes s for sh: bare when it holds only safe characters,
// else in single quotes ('\” for a quote inside).
func quotePOSIX(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=+@%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quotePowerShell quotes s for PowerShell: bare when it holds only safe
// characters, else in single quotes (literal in PowerShell; ” for a quote
// inside).
func quotePowerShell(s string) string {
	if s != "" && strings.Trim(s, `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:\/=+`) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
