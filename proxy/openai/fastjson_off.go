//go:build gbd_stdjson

package openai

// fastJSON is off: every Gemini answer is decoded, and every stream chunk
// encoded, by encoding/json (see fastjson.go).
const fastJSON = false
