package app

import "strings"

// parseAppleLanguages reads the tags out of `defaults read -g
// AppleLanguages` output: a plist array such as
//
//	(
//	    "zh-Hans-CN",
//	    en
//	)
func parseAppleLanguages(out string) []string {
	return strings.FieldsFunc(out, func(r rune) bool {
		return r == '(' || r == ')' || r == ',' || r == '"' || r == '\n' || r == ' ' || r == '\t'
	})
}
