//go:build windows

package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// attachParentProcess is ATTACH_PARENT_PROCESS ((DWORD)-1).
const attachParentProcess = ^uint32(0)

var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

// attachConsole makes the CLI print to the console it was started from.
// The exe is a GUI program (-H=windowsgui, so that a double-click opens no
// console window), and Windows gives a GUI program started from cmd or
// PowerShell no standard handles: without this, access-key, keys list,
// serve and --help would print nothing. Handles that are already valid
// (output redirected to a file or a pipe) are kept. Started from Explorer
// there is no parent console and nothing changes.
func attachConsole() {
	in, out, errh := stdValid(windows.STD_INPUT_HANDLE), stdValid(windows.STD_OUTPUT_HANDLE), stdValid(windows.STD_ERROR_HANDLE)
	// Attached, Ctrl+C in that console reaches the app (serve shuts down
	// cleanly). This fails when there is no parent console (a
	// double-click: then CONOUT$ below cannot be opened either) and when a
	// console is already attached (then CONOUT$ is that console).
	procAttachConsole.Call(uintptr(attachParentProcess))
	if out && errh {
		return
	}
	if !out {
		if f := openConsole("CONOUT$", windows.STD_OUTPUT_HANDLE); f != nil {
			os.Stdout = f
		}
	}
	if !errh {
		if f := openConsole("CONOUT$", windows.STD_ERROR_HANDLE); f != nil {
			os.Stderr = f
		}
	}
	if !in {
		if f := openConsole("CONIN$", windows.STD_INPUT_HANDLE); f != nil {
			os.Stdin = f
		}
	}
}

// stdValid reports whether the standard handle refers to something
// (a console, a file, a pipe).
func stdValid(which uint32) bool {
	h, err := windows.GetStdHandle(which)
	if err != nil || h == 0 || h == windows.InvalidHandle {
		return false
	}
	t, err := windows.GetFileType(h)
	return err == nil && t != windows.FILE_TYPE_UNKNOWN
}

// openConsole opens the attached console's input or output and makes it
// the standard handle which, for child processes and for code that asks
// Windows rather than os.Stdout.
func openConsole(name string, which uint32) *os.File {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil
	}
	windows.SetStdHandle(which, h)
	return os.NewFile(uintptr(h), name)
}
