//go:build desktop && !windows

package main

import "errors"

// webview2Missing is Windows-only: the window needs no extra runtime here.
func webview2Missing() string { return "" }

var errWindowsOnly = errors.New("only used on Windows")

func openURL(string) error      { return errWindowsOnly }
func setClipboard(string) error { return errWindowsOnly }
func askYesNo(_, _ string) bool { return false }

func (d *desktop) browserInstanceLock() (release func(), first bool) { return func() {}, true }
