// Package sse reads and writes text/event-stream bodies, the framing of
// Gemini's streamGenerateContent?alt=sse ("data: {json}\r\n\r\n") and of
// OpenAI's streamed completions ("data: {json}\n\n" … "data: [DONE]\n\n").
//
// Reader returns each event's data and its exact bytes (Event.Raw), so a
// proxy can both inspect an event and forward it untouched. Writer writes
// events and flushes after each one.
package sse
