package gemini

import "strings"

// ValidFunctionName follows Gemini's rule for function declaration names:
// 1 to 128 characters from a–z, A–Z, 0–9, '_', '-', '.' and ':'.
func ValidFunctionName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// IsFilesURI reports whether u is a Gemini Files API URI, which Gemini takes
// as fileData instead of inline bytes.
func IsFilesURI(u string) bool {
	return strings.HasPrefix(u, "https://generativelanguage.googleapis.com/") && strings.Contains(u, "/files/")
}
