//go:build !race

package tray

// raceEnabled reports whether the test binary was built with -race.
const raceEnabled = false
