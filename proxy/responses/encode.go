package responses

import (
	"strconv"

	"github.com/gemini-balance/desktop/proxy/openai"
)

// The answer is written by hand-made appenders rather than encoding/json:
// a stream writes several events per upstream chunk and each repeats item
// ids and indices, so this is most of the translation's cost. The bytes are
// what encoding/json would write with HTML escaping off.
//
// To add a field: add it to the struct (with its json tag) and to the
// struct's AppendJSON here, in the same place; the golden tests
// (TestGoldenResponses, TestGoldenStreams) compare whole answers.

var appendString = openai.AppendJSONString

// MarshalJSON encodes the response object.
func (r *Response) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the JSON encoding of r to b.
func (r *Response) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"object":"response","created_at":`...)
	b = strconv.AppendInt(b, r.CreatedAt, 10)
	b = append(b, `,"status":`...)
	b = appendString(b, r.Status)
	b = append(b, `,"error":`...)
	if r.Error != nil {
		b = append(b, `{"code":`...)
		b = appendString(b, r.Error.Code)
		b = append(b, `,"message":`...)
		b = appendString(b, r.Error.Message)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"incomplete_details":`...)
	if r.IncompleteDetails != nil {
		b = append(b, `{"reason":`...)
		b = appendString(b, r.IncompleteDetails.Reason)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"model":`...)
	b = appendString(b, r.Model)
	b = append(b, `,"output":[`...)
	for i := range r.Output {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.Output[i].AppendJSON(b)
	}
	b = append(b, `],"usage":`...)
	if r.Usage != nil {
		b = r.Usage.AppendJSON(b)
	} else {
		b = append(b, "null"...)
	}
	if len(r.Echo) > 0 {
		b = append(b, ',')
		b = append(b, r.Echo...)
	}
	return append(b, '}')
}

// MarshalJSON encodes the usage object.
func (u *Usage) MarshalJSON() ([]byte, error) { return u.AppendJSON(nil), nil }

// AppendJSON appends the JSON encoding of u to b.
func (u *Usage) AppendJSON(b []byte) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, u.InputTokens, 10)
	b = append(b, `,"input_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, u.CachedTokens, 10)
	b = append(b, `},"output_tokens":`...)
	b = strconv.AppendInt(b, u.OutputTokens, 10)
	b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, u.ReasoningTokens, 10)
	b = append(b, `},"total_tokens":`...)
	b = strconv.AppendInt(b, u.TotalTokens, 10)
	return append(b, '}')
}

// MarshalJSON encodes the item in the shape of its type.
func (it *OutputItem) MarshalJSON() ([]byte, error) { return it.AppendJSON(nil), nil }

// AppendJSON appends the JSON encoding of it to b.
func (it *OutputItem) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, it.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, it.Type)
	switch it.Type {
	case "message":
		b = append(b, `,"status":`...)
		b = appendString(b, it.Status)
		b = append(b, `,"role":"assistant","content":[`...)
		switch {
		case it.Refusal != "":
			b = appendRefusalPart(b, it.Refusal)
		case it.Status == "completed" || it.Text != "":
			b = appendTextPart(b, it.Text)
		}
		b = append(b, ']')
	case "reasoning":
		b = append(b, `,"summary":[`...)
		if it.Summary != "" {
			b = appendSummaryPart(b, it.Summary)
		}
		b = append(b, `],"encrypted_content":`...)
		if it.EncryptedContent != "" {
			b = appendString(b, it.EncryptedContent)
		} else {
			b = append(b, "null"...)
		}
	case "function_call", "custom_tool_call":
		b = append(b, `,"status":`...)
		b = appendString(b, it.Status)
		b = append(b, `,"call_id":`...)
		b = appendString(b, it.CallID)
		b = append(b, `,"name":`...)
		b = appendString(b, it.Name)
		if it.Namespace != "" {
			b = append(b, `,"namespace":`...)
			b = appendString(b, it.Namespace)
		}
		if it.Type == "function_call" {
			b = append(b, `,"arguments":`...)
			b = appendString(b, it.Arguments)
		} else {
			b = append(b, `,"input":`...)
			b = appendString(b, it.Input)
		}
	case "tool_search_call":
		b = append(b, `,"status":`...)
		b = appendString(b, it.Status)
		b = append(b, `,"call_id":`...)
		b = appendString(b, it.CallID)
		b = append(b, `,"execution":"client","arguments":`...)
		if it.Arguments == "" {
			b = append(b, "{}"...)
		} else {
			b = append(b, it.Arguments...)
		}
	}
	return append(b, '}')
}

func appendTextPart(b []byte, text string) []byte {
	b = append(b, `{"type":"output_text","text":`...)
	b = appendString(b, text)
	return append(b, `,"annotations":[],"logprobs":[]}`...)
}

func appendRefusalPart(b []byte, refusal string) []byte {
	b = append(b, `{"type":"refusal","refusal":`...)
	b = appendString(b, refusal)
	return append(b, '}')
}

func appendSummaryPart(b []byte, text string) []byte {
	b = append(b, `{"type":"summary_text","text":`...)
	b = appendString(b, text)
	return append(b, '}')
}
