//go:build !windows

package private

import (
	"fmt"
	"os"
)

// Dir restricts the directory path to the current user (mode 0700).
func Dir(path string) error { return tighten(path, 0o700) }

// File restricts the file path to the current user (mode 0600).
func File(path string) error { return tighten(path, 0o600) }

func tighten(path string, mode os.FileMode) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("restrict %s to the current user: %w", path, err)
	}
	if st.Mode().Perm()&^mode == 0 {
		return nil
	}
	if err := os.Chmod(path, st.Mode().Perm()&mode); err != nil {
		return fmt.Errorf("restrict %s to the current user: %w", path, err)
	}
	return nil
}
