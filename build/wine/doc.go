// Package wine holds the Windows lane of build/test.sh: wine_test.go runs
// the Windows build under Debian's wine 8 against real parts (wine's
// Credential Manager, registry and message boxes, a fake Gemini and an HTTP
// proxy on loopback). prefix.sh makes the wine prefix (with the stand-in
// bcryptprimitives.dll from dll/bcryptprimitives.c), consolehost/ starts a
// program the way cmd.exe starts a GUI program. The tests skip unless
// build/test.sh's wine stage sets GBD_WINE_DIR.
package wine
