//go:build windows

package app

import "golang.org/x/sys/windows"

// osLanguages are the user's UI languages in order of preference
// (GetUserPreferredUILanguages), e.g. ["zh-CN", "en-US"].
func osLanguages() []string {
	langs, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME)
	if err == nil && len(langs) > 0 {
		return langs
	}
	// GetUserDefaultUILanguage: a LANGID whose low 10 bits are the primary language.
	if id, _, _ := procGetUserDefaultUILanguage.Call(); id&0x3ff == langChinese {
		return []string{"zh-CN"}
	} else if id != 0 {
		return []string{"en"}
	}
	return nil
}

// langChinese is LANG_CHINESE, the primary language id of every Chinese variant.
const langChinese = 0x04

var procGetUserDefaultUILanguage = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetUserDefaultUILanguage")
