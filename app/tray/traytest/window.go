package traytest

import "os/exec"

// CloseWindow asks the X11 window win (an id as xdotool prints it) to
// close as a window manager does (WM_DELETE_WINDOW) — what a user's click
// on the close button sends, which xdotool cannot do without a window
// manager. It needs python3 and libX11; the output helps when it fails.
func CloseWindow(win string) ([]byte, error) {
	return exec.Command("python3", "-c", wmDeleteScript, win).CombinedOutput()
}

const wmDeleteScript = `
import ctypes, sys
x = ctypes.cdll.LoadLibrary("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XInternAtom.restype = ctypes.c_ulong
x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
x.XFlush.argtypes = [ctypes.c_void_p]
class Ev(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("l", ctypes.c_long * 5), ("pad", ctypes.c_long * 24)]
d = x.XOpenDisplay(None)
if not d:
    sys.exit("cannot open display")
w = int(sys.argv[1], 0)
e = Ev(type=33, window=w, format=32)
e.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
e.l[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
if not x.XSendEvent(d, w, 0, 0, ctypes.byref(e)):
    sys.exit("XSendEvent failed")
x.XFlush(d)
`
