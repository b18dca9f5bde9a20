//go:build !linux

package main

import "errors"

// pageOutFiles is Linux's (pageout_linux.go); elsewhere it does nothing.
func pageOutFiles() (int64, error) { return 0, errors.ErrUnsupported }
