//go:build !unix

package main

import (
	"errors"
	"time"
)

// selfUsage is not available here: CPU figures are reported as missing.
func selfUsage() (user, sys time.Duration, maxRSSKiB int64, err error) {
	return 0, 0, 0, errors.New("getrusage is not available on this system")
}
