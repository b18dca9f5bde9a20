package sse

import (
	"errors"
	"io"
	"net/http"
	"strings"
)

// Writer writes events to a text/event-stream and flushes after each one,
// so that every event reaches the client as soon as it is written. It is
// not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer on w. If w is an http.ResponseWriter (or
// anything with Flush), every event is flushed after it is written.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// WriteData writes one event "data: …\n\n" and flushes. A line break in
// data (which JSON never holds) starts another data: line, so the reader
// gets data back unchanged.
func (sw *Writer) WriteData(data []byte) error {
	sw.buf = appendData(sw.buf[:0], data)
	return sw.write(sw.buf)
}

// WriteRaw writes raw as it is (typically an Event.Raw read from upstream)
// and flushes.
func (sw *Writer) WriteRaw(raw []byte) error {
	return sw.write(raw)
}

// WriteComment writes a comment line ": text\n\n", which clients ignore;
// useful as a keep-alive. Line breaks in text are replaced by spaces.
func (sw *Writer) WriteComment(text string) error {
	sw.buf = append(sw.buf[:0], ": "...)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' || c == '\r' {
			c = ' '
		}
		sw.buf = append(sw.buf, c)
	}
	sw.buf = append(sw.buf, "\n\n"...)
	return sw.write(sw.buf)
}

// Flush sends what was written so far to the client.
func (sw *Writer) Flush() error {
	return flush(sw.w)
}

func (sw *Writer) write(b []byte) error {
	if _, err := sw.w.Write(b); err != nil {
		return err
	}
	return flush(sw.w)
}

// WriteData writes one event "data: …\n\n" to w and flushes w when it can
// be flushed. See Writer.WriteData.
func WriteData(w io.Writer, data []byte) error {
	if _, err := w.Write(appendData(nil, data)); err != nil {
		return err
	}
	return flush(w)
}

// appendData appends the event for data to b.
func appendData(b, data []byte) []byte {
	for {
		i := indexLineEnd(data)
		if i < 0 {
			break
		}
		b = append(b, "data: "...)
		b = append(b, data[:i]...)
		b = append(b, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b = append(b, "data: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// flush flushes w if it knows how; a writer that cannot flush is fine.
func flush(w io.Writer) error {
	switch f := w.(type) {
	case interface{ FlushError() error }:
		return f.FlushError()
	case http.Flusher:
		f.Flush()
		return nil
	case interface{ Flush() error }: // bufio.Writer and the like
		return f.Flush()
	case http.ResponseWriter: // a wrapper that exposes Unwrap
		err := http.NewResponseController(f).Flush()
		if errors.Is(err, http.ErrNotSupported) {
			return nil
		}
		return err
	}
	return nil
}

// contentType is what an event stream is served as.
const contentType = "text/event-stream"

// SetHeaders prepares h for an event stream: Content-Type
// text/event-stream, no caching, and no buffering by reverse proxies
// (X-Accel-Buffering: no).
func SetHeaders(h http.Header) {
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
}

// IsEventStream reports whether a Content-Type header value names
// text/event-stream (parameters and case ignored).
func IsEventStream(contentTypeHeader string) bool {
	mediaType, _, _ := strings.Cut(contentTypeHeader, ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), contentType)
}
