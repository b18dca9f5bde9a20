package openai

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// The functions below expose pieces of this package's translation to the
// other OpenAI dialect (package responses, the Responses API), so both
// dialects decode Gemini answers, map reasoning effort and read media the
// same way. Each returns an *Error (400, or 502 for upstream bodies) as its
// error.

// DecodeAnswer decodes a generateContent body or the data of one stream
// event with the same fast reader the chat translation uses (falling back to
// encoding/json). errorCode is the code of an {"error":{...}} object in the
// data (an error sent inside a stream), 0 otherwise. A body that is not JSON
// is a 502 *Error.
func DecodeAnswer(data []byte) (resp *gemini.GenerateContentResponse, errorCode int, err error) {
	var ev streamEvent
	if decodeAnswer(data, &ev) != nil {
		ev = streamEvent{}
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, 0, &Error{Status: http.StatusBadGateway, Type: "server_error", Message: "the upstream answer is not valid JSON: " + err.Error()}
		}
	}
	if ev.Error != nil {
		return &ev.GenerateContentResponse, max(ev.Error.Code, 1), nil
	}
	return &ev.GenerateContentResponse, 0, nil
}

// EffortThinking maps a reasoning effort (none, minimal, low, medium, high)
// to Gemini's thinkingConfig for model, exactly as reasoning_effort is mapped
// on the chat route (thinkingLevel on Gemini 3 and later, thinkingBudget
// before). param names the field in error messages. An empty effort returns
// the default: includeThoughts for models that think by default, else nil.
func EffortThinking(model, effort, param string) (*gemini.ThinkingConfig, error) {
	tc, e := thinkingConfig(model, effort, nil)
	if e != nil {
		if param != "" {
			e.Param = param
			e.Message = param + e.Message[len("reasoning_effort"):]
		}
		return nil, e
	}
	return tc, nil
}

// CleanSchemaAt is gemini.CleanSchema with its failure as a 400 *Error
// about param (e.g. "tools[2].parameters").
func CleanSchemaAt(schema json.RawMessage, param string) (json.RawMessage, error) {
	out, e := cleanSchema(schema, param)
	if e != nil {
		return nil, e
	}
	return out, nil
}

// ImagePart converts an image URL (a data URI, a Gemini Files API URI, or an
// http(s) URL fetched with fetch) to a Gemini part; param names the field in
// error messages.
func ImagePart(ctx context.Context, url, param string, fetch gemini.FetchFunc) (gemini.Part, error) {
	p, e := imagePart(ctx, url, param, fetch)
	if e != nil {
		return gemini.Part{}, e
	}
	return p, nil
}

// FileDataPart converts a file given as file_data (a data URI or bare
// base64, typed by filename, PDF by default) or a Gemini file id
// ("files/…") to a Gemini part; param names the field in error messages.
func FileDataPart(fileData, fileID, filename, param string) (gemini.Part, error) {
	p, e := filePart(&FilePart{FileData: fileData, FileID: fileID, Filename: filename}, param)
	if e != nil {
		return gemini.Part{}, e
	}
	return p, nil
}

// FieldPath turns encoding/json's field path ("tools.0.name") into the
// parameter name in error messages ("tools[0].name").
func FieldPath(f string) string { return fieldPath(f) }

// Invalid returns a 400 invalid_request_error about param.
func Invalid(param, format string, args ...any) *Error { return invalid(param, format, args...) }

// AppendJSONString appends s to b as a JSON string, written as encoding/json
// writes it with HTML escaping off.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }
