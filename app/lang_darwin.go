//go:build darwin

package app

import (
	"context"
	"os/exec"
	"time"
)

// osLanguages are the user's preferred languages (System Settings →
// Language & Region), read with `defaults read -g AppleLanguages`, which
// prints a plist array: ( "zh-Hans-CN", "en-US" ).
func osLanguages() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/defaults", "read", "-g", "AppleLanguages").Output()
	if err != nil {
		return nil
	}
	return parseAppleLanguages(string(out))
}
