package responses

import "strconv"

// AppendSSE appends e as one text/event-stream event:
// "event: <type>\ndata: <json>\n\n".
func (e *Event) AppendSSE(b []byte) []byte {
	b = append(b, "event: "...)
	b = append(b, e.Type...)
	b = append(b, "\ndata: "...)
	b = e.AppendJSON(b)
	return append(b, "\n\n"...)
}

// MarshalJSON encodes the event's data.
func (e *Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// AppendJSON appends the JSON data of e to b.
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"sequence_number":`...)
	b = strconv.AppendInt(b, int64(e.Seq), 10)
	switch e.Type {
	case "response.created", "response.in_progress", "response.completed", "response.incomplete", "response.failed":
		b = append(b, `,"response":`...)
		b = e.Response.AppendJSON(b)
	case "response.output_item.added", "response.output_item.done":
		b = appendIndex(b, "output_index", e.OutputIndex)
		b = append(b, `,"item":`...)
		b = e.Item.AppendJSON(b)
	case "response.content_part.added", "response.content_part.done":
		b = e.appendItemRef(b, "content_index")
		b = append(b, `,"part":`...)
		b = appendTextPart(b, e.Text)
	case "response.output_text.delta":
		b = e.appendItemRef(b, "content_index")
		b = append(b, `,"delta":`...)
		b = appendString(b, e.Delta)
		b = append(b, `,"logprobs":[]`...)
	case "response.output_text.done":
		b = e.appendItemRef(b, "content_index")
		b = append(b, `,"text":`...)
		b = appendString(b, e.Text)
		b = append(b, `,"logprobs":[]`...)
	case "response.reasoning_summary_part.added", "response.reasoning_summary_part.done":
		b = e.appendItemRef(b, "summary_index")
		b = append(b, `,"part":`...)
		b = appendSummaryPart(b, e.Text)
	case "response.reasoning_summary_text.delta":
		b = e.appendItemRef(b, "summary_index")
		b = append(b, `,"delta":`...)
		b = appendString(b, e.Delta)
	case "response.reasoning_summary_text.done":
		b = e.appendItemRef(b, "summary_index")
		b = append(b, `,"text":`...)
		b = appendString(b, e.Text)
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		b = e.appendItemRef(b, "")
		b = append(b, `,"delta":`...)
		b = appendString(b, e.Delta)
	case "response.function_call_arguments.done":
		b = e.appendItemRef(b, "")
		b = append(b, `,"arguments":`...)
		b = appendString(b, e.Text)
	case "response.custom_tool_call_input.done":
		b = e.appendItemRef(b, "")
		b = append(b, `,"input":`...)
		b = appendString(b, e.Text)
	case "error":
		b = append(b, `,"code":`...)
		b = appendString(b, e.Code)
		b = append(b, `,"message":`...)
		b = appendString(b, e.Message)
		b = append(b, `,"param":null`...)
	}
	return append(b, '}')
}

func appendIndex(b []byte, name string, i int) []byte {
	b = append(b, ",\""...)
	b = append(b, name...)
	b = append(b, "\":"...)
	return strconv.AppendInt(b, int64(i), 10)
}

// appendItemRef appends item_id, output_index and, when index is named,
// that index.
func (e *Event) appendItemRef(b []byte, index string) []byte {
	b = append(b, `,"item_id":`...)
	b = appendString(b, e.ItemID)
	b = appendIndex(b, "output_index", e.OutputIndex)
	if index != "" {
		b = appendIndex(b, index, e.Index)
	}
	return b
}
