package openai

import (
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// Thinking budgets for models that take thinkingBudget (Gemini 2.5). low,
// medium and high are the 1K/8K/24K steps of Google's own OpenAI endpoint;
// minimal is 512, the smallest budget every 2.5 model accepts (Flash-Lite's
// floor; Pro's is 128, Flash's 1).
var effortBudgets = map[string]int{
	"none":    0,
	"minimal": 512,
	"low":     1024,
	"medium":  8192,
	"high":    24576,
}

// Thinking levels for Gemini 3 and later. Gemini 3 cannot switch thinking
// off; MINIMAL is the level Google describes as "no thinking for most
// queries", so none maps to it too.
var effortLevels = map[string]string{
	"none":    "MINIMAL",
	"minimal": "MINIMAL",
	"low":     "LOW",
	"medium":  "MEDIUM",
	"high":    "HIGH",
}

// thinkingConfig builds generationConfig.thinkingConfig from reasoning_effort
// and google.thinking_config (at most one of them).
func thinkingConfig(model, effort string, tc *ThinkingConfig) (*gemini.ThinkingConfig, *Error) {
	if effort != "" && tc != nil {
		return nil, invalid("reasoning_effort", "reasoning_effort and google.thinking_config cannot both be set; use one of them")
	}
	if effort != "" {
		e := strings.ToLower(effort)
		budget, ok := effortBudgets[e]
		if !ok {
			return nil, invalid("reasoning_effort", "reasoning_effort %q is not supported; use none, minimal, low, medium or high", effort)
		}
		out := &gemini.ThinkingConfig{IncludeThoughts: e != "none"}
		if gemini.UsesThinkingLevel(model) {
			out.ThinkingLevel = effortLevels[e]
		} else {
			out.ThinkingBudget = &budget
		}
		return out, nil
	}
	if tc != nil {
		out := &gemini.ThinkingConfig{ThinkingBudget: tc.ThinkingBudget}
		if tc.ThinkingLevel != "" {
			out.ThinkingLevel = strings.ToUpper(tc.ThinkingLevel)
		}
		switch {
		case tc.IncludeThoughts != nil:
			out.IncludeThoughts = *tc.IncludeThoughts
		default:
			out.IncludeThoughts = tc.ThinkingBudget == nil || *tc.ThinkingBudget != 0
		}
		return out, nil
	}
	if gemini.ThinksByDefault(model) {
		return &gemini.ThinkingConfig{IncludeThoughts: true}, nil
	}
	return nil, nil
}
