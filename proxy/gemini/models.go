package gemini

import (
	"strconv"
	"strings"
)

// Generation returns the major version of a "gemini-N…" model name, or
// 0 when the name does not say.
func Generation(model string) int {
	rest, ok := strings.CutPrefix(model, "gemini-")
	if !ok {
		return 0
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return 0
	}
	return n
}

// UsesThinkingLevel reports whether model takes thinkingLevel rather than
// thinkingBudget.
func UsesThinkingLevel(model string) bool { return Generation(model) >= 3 }

// ThinksByDefault reports whether model is of a family that thinks by
// default and returns thought summaries when asked (gemini-2.5*, gemini-3+),
// excluding the image, speech, audio and live variants.
func ThinksByDefault(model string) bool {
	g := Generation(model)
	if g < 3 && !strings.HasPrefix(model, "gemini-2.5") {
		return false
	}
	for _, s := range []string{"image", "tts", "audio", "live", "embedding"} {
		if strings.Contains(model, s) {
			return false
		}
	}
	return true
}

// MaxOutputTokens returns the output token limit of model as Google
// documents it for its family (65536 for 2.5 and later, 8192 before), or 0
// when the name does not say.
func MaxOutputTokens(model string) int {
	g := Generation(model)
	switch {
	case g >= 3 || strings.HasPrefix(model, "gemini-2.5"):
		return 65536
	case g >= 1:
		return 8192
	}
	return 0
}
