//go:build windows

// Command consolehost runs a program the way cmd.exe runs a GUI program on
// Windows, and prints what that program wrote to the console (tests only;
// the wine lane of build/test.sh uses it):
//
//	consolehost OUTFILE PROGRAM [ARG...]
//
// It makes a fresh console, starts PROGRAM attached to it with no standard
// handles (what a -H=windowsgui program gets when started from cmd or
// PowerShell), waits, then writes "exit N" and the console's text to
// OUTFILE. A GUI program that does not attach to its parent's console
// leaves the console empty.
package main

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	kernel32                    = windows.NewLazySystemDLL("kernel32.dll")
	procFreeConsole             = kernel32.NewProc("FreeConsole")
	procAllocConsole            = kernel32.NewProc("AllocConsole")
	procReadConsoleOutputCharW  = kernel32.NewProc("ReadConsoleOutputCharacterW")
	procGetConsoleScreenBufInfo = kernel32.NewProc("GetConsoleScreenBufferInfo")
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: consolehost OUTFILE PROGRAM [ARG...]")
		os.Exit(2)
	}
	out, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer out.Close()
	if err := run(out, os.Args[2:]); err != nil {
		fmt.Fprintln(out, "consolehost:", err)
		os.Exit(1)
	}
}

func run(out *os.File, argv []string) error {
	procFreeConsole.Call()
	if r, _, err := procAllocConsole.Call(); r == 0 {
		return fmt.Errorf("AllocConsole: %w", err)
	}
	cl, err := windows.UTF16PtrFromString(windows.ComposeCommandLine(argv))
	if err != nil {
		return err
	}
	var si windows.StartupInfo
	si.Cb = uint32(unsafe.Sizeof(si))
	si.Flags = windows.STARTF_USESTDHANDLES // and all three handles zero
	var pi windows.ProcessInformation
	if err := windows.CreateProcess(nil, cl, nil, nil, false, 0, nil, nil, &si, &pi); err != nil {
		return fmt.Errorf("CreateProcess: %w", err)
	}
	defer windows.CloseHandle(pi.Process)
	defer windows.CloseHandle(pi.Thread)
	if _, err := windows.WaitForSingleObject(pi.Process, 60_000); err != nil {
		return err
	}
	var code uint32
	if err := windows.GetExitCodeProcess(pi.Process, &code); err != nil {
		return err
	}
	text, err := consoleText()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "exit %d\n%s\n", code, text)
	return err
}

// consoleText reads the console's screen buffer up to the cursor.
func consoleText() (string, error) {
	name, _ := windows.UTF16PtrFromString("CONOUT$")
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return "", fmt.Errorf("open CONOUT$: %w", err)
	}
	defer windows.CloseHandle(h)
	var info windows.ConsoleScreenBufferInfo
	if r, _, err := procGetConsoleScreenBufInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&info))); r == 0 {
		return "", fmt.Errorf("GetConsoleScreenBufferInfo: %w", err)
	}
	var b strings.Builder
	buf := make([]uint16, info.Size.X)
	for y := int16(0); y <= info.CursorPosition.Y; y++ {
		var n uint32
		at := windows.Coord{X: 0, Y: y}
		procReadConsoleOutputCharW.Call(uintptr(h), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
			uintptr(*(*uint32)(unsafe.Pointer(&at))), uintptr(unsafe.Pointer(&n)))
		b.WriteString(strings.TrimRight(windows.UTF16ToString(buf[:n]), " "))
		b.WriteByte('\n')
	}
	return b.String(), nil
}
