//go:build !windows && !darwin

package app

// osLanguages is empty here: on Linux and the BSDs the environment
// (LANG, LC_*) is the OS setting.
func osLanguages() []string { return nil }
