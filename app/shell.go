package app

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Default and smallest window sizes.
const (
	defaultWindowWidth  = 1100
	defaultWindowHeight = 760
	minWindowWidth      = 720
	minWindowHeight     = 480
)

// WindowSize returns the window size to open with: the remembered one, or
// the default.
func (a *App) WindowSize() (width, height int) {
	s := a.Settings()
	if s.WindowWidth < minWindowWidth || s.WindowHeight < minWindowHeight {
		return defaultWindowWidth, defaultWindowHeight
	}
	return s.WindowWidth, s.WindowHeight
}

// SaveWindowSize remembers the window size for the next start.
func (a *App) SaveWindowSize(width, height int) {
	if width < minWindowWidth || height < minWindowHeight {
		return
	}
	if s := a.Settings(); s.WindowWidth == width && s.WindowHeight == height {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.modifySettings(ctx, func(s *Settings) { s.WindowWidth, s.WindowHeight = width, height }); err != nil {
		a.log.Warn("saving the window size", "err", err)
	}
}

// UIAssets is the built web UI.
func (a *App) UIAssets() fs.FS { return a.opts.Assets }

// Icon is the app icon (PNG).
func (a *App) Icon() []byte { return a.opts.Icon }

// SystemLanguage returns "zh-CN" when the user's language is Chinese, else
// "en". On Windows and macOS the OS UI language decides (Windows sets no
// LANG; an app started from Finder has none either), then LANG/LC_*; on
// Linux LC_ALL, LC_MESSAGES, LANG, LANGUAGE. On macOS it runs a program:
// call it once, not per update.
func SystemLanguage() string {
	return pickLanguage(append(osLanguages(), envLanguages()...))
}

// envLanguages are the locales named by the environment, most important
// first (LANGUAGE may list several, colon-separated).
func envLanguages() []string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"} {
		if l := os.Getenv(v); l != "" && l != "C" && l != "POSIX" {
			return strings.Split(l, ":")
		}
	}
	return nil
}

// pickLanguage returns "zh-CN" when the first usable tag is Chinese
// ("zh-Hans-CN", "zh_CN.UTF-8", "zh-TW"…), else "en".
func pickLanguage(tags []string) string {
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || t == "c" || t == "posix" {
			continue
		}
		if t == "zh" || strings.HasPrefix(t, "zh-") || strings.HasPrefix(t, "zh_") || strings.HasPrefix(t, "zh.") {
			return "zh-CN"
		}
		return "en"
	}
	return "en"
}
