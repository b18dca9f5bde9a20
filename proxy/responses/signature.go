package responses

import (
	"encoding/base64"
	"strings"
)

// signaturePrefix starts every encrypted_content this proxy writes; the
// version lets the format change without misreading old values.
const signaturePrefix = "gbd1."

// EncodeSignature packs the Gemini thought signature of the function call
// callID into the encrypted_content of a reasoning item:
// "gbd1." + base64url(callID) + "." + signature. Stateless clients (Codex
// sends store: false and include: ["reasoning.encrypted_content"]) send the
// reasoning item back with the next request, and ToGemini puts the
// signature back on that call, as Gemini 3 requires.
func EncodeSignature(callID, sig string) string {
	return signaturePrefix + base64.RawURLEncoding.EncodeToString([]byte(callID)) + "." + sig
}

// DecodeSignature reverses EncodeSignature. ok is false for anything else
// (for instance a real OpenAI encrypted reasoning blob), which is ignored.
func DecodeSignature(s string) (callID, sig string, ok bool) {
	rest, found := strings.CutPrefix(s, signaturePrefix)
	if !found {
		return "", "", false
	}
	enc, sig, found := strings.Cut(rest, ".")
	if !found || sig == "" {
		return "", "", false
	}
	id, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(id) == 0 {
		return "", "", false
	}
	return string(id), sig, true
}
