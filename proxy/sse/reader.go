package sse

import (
	"bytes"
	"errors"
	"io"
)

// DefaultMaxEventSize bounds one event (Raw, separator included) unless
// SetMaxEventSize says otherwise. Image models stream inline base64
// pictures of several MiB in a single event, hence the generous default.
const DefaultMaxEventSize = 32 << 20

// initialBufferSize is the Reader's first buffer; it doubles as needed.
const initialBufferSize = 4 << 10

// ErrEventTooLarge is returned by Next when an event exceeds the maximum
// size. The Reader is unusable afterwards.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one block of a text/event-stream: the lines up to and including
// the blank line that ends it.
type Event struct {
	// Data holds the values of the block's data: lines joined with "\n". It
	// is nil when the block had no data line (a comment or keep-alive) and
	// may share memory with Raw.
	Data []byte
	// Type is the value of the event: field, "" if none.
	Type string
	// ID is the value of the id: field, "" if none.
	ID string
	// Raw holds the exact bytes of the block, from the first byte after the
	// previous block up to and including the blank line that ends this one
	// (blank lines before the block belong to it too). Concatenating the Raw
	// of every event returned before io.EOF gives the stream byte for byte,
	// so a proxy can forward Raw untouched. Raw is the caller's to keep.
	Raw []byte
	// Unterminated is set on the last event when the stream ended without
	// the blank line that should close it (a cut stream, or a server that
	// omits the final separator).
	Unterminated bool
}

// Reader reads events from a text/event-stream. Lines may end in "\r\n",
// "\n" or "\r", mixed freely. It is not safe for concurrent use.
type Reader struct {
	r   io.Reader
	buf []byte
	max int
	err error // sticky error of r (io.EOF at the end)

	start     int  // first byte of the pending block in buf
	end       int  // end of the bytes read into buf
	scan      int  // bytes before scan were checked for line ends
	lineStart int  // start of the line being scanned
	content   bool // the pending block has a non-blank line
}

// NewReader returns a Reader reading from r with DefaultMaxEventSize.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, max: DefaultMaxEventSize}
}

// SetMaxEventSize sets the largest event Next accepts, in bytes (at least
// 1 KiB). Call it before the first Next.
func (r *Reader) SetMaxEventSize(n int) {
	r.max = max(n, 1<<10)
}

// Next returns the next event. At the end of the stream it returns io.EOF;
// if the stream ended inside a block, that block is returned first with
// Unterminated set. Any other read error is returned as is (the pending
// partial block is dropped), and so is ErrEventTooLarge.
func (r *Reader) Next() (Event, error) {
	for {
		if ev, ok := r.scanBlock(); ok {
			return ev, nil
		}
		if r.err != nil {
			if r.err == io.EOF && r.start < r.end {
				return r.dispatch(r.end, r.content || r.lineStart < r.end), nil
			}
			return Event{}, r.err
		}
		r.fill()
	}
}

// scanBlock looks for the blank line that ends the pending block in the
// bytes read so far and dispatches the block when it finds one.
func (r *Reader) scanBlock() (Event, bool) {
	for r.scan < r.end {
		i := indexLineEnd(r.buf[r.scan:r.end])
		if i < 0 {
			r.scan = r.end
			break
		}
		p := r.scan + i
		next := p + 1
		if r.buf[p] == '\r' {
			if next == r.end && r.err == nil {
				// A "\r" at the end of what we have: is it "\r\n"? Read on.
				r.scan = p
				break
			}
			if next < r.end && r.buf[next] == '\n' {
				next++
			}
		}
		blank := p == r.lineStart
		r.scan, r.lineStart = next, next
		if !blank {
			r.content = true
			continue
		}
		if r.content {
			return r.dispatch(next, false), true
		}
		// A blank line before any field: it belongs to the next block's Raw.
	}
	return Event{}, false
}

// indexLineEnd returns the index of the first '\n' or '\r' in b, or -1.
func indexLineEnd(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		n = len(b)
	}
	// '\r' alone is rare: look for it only before the first '\n'.
	if c := bytes.IndexByte(b[:n], '\r'); c >= 0 {
		return c
	}
	if n == len(b) {
		return -1
	}
	return n
}

// dispatch turns buf[start:end] into an event and starts a new block.
func (r *Reader) dispatch(end int, unterminated bool) Event {
	raw := make([]byte, end-r.start)
	copy(raw, r.buf[r.start:end])
	ev := parseBlock(raw)
	ev.Unterminated = unterminated
	r.start, r.content = end, false
	if r.start == r.end { // nothing pending: reuse the buffer from its start
		r.start, r.end, r.scan, r.lineStart = 0, 0, 0, 0
	}
	return ev
}

// fill reads more bytes, making room first (compacting, then growing).
func (r *Reader) fill() {
	if r.start > 0 && (r.end == len(r.buf) || r.start >= len(r.buf)/2) {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.scan -= r.start
		r.lineStart -= r.start
		r.end = n
		r.start = 0
	}
	if r.end == len(r.buf) {
		if r.end >= r.max {
			r.err = ErrEventTooLarge
			return
		}
		size := min(max(2*len(r.buf), initialBufferSize), r.max)
		nb := make([]byte, size)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for range 100 {
		n, err := r.r.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			r.err = errors.New("sse: reader returned an invalid count")
			return
		}
		r.end += n
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}

// parseBlock reads the fields of one block (RFC: WHATWG HTML, "Server-sent
// events", interpreting an event stream).
func parseBlock(raw []byte) Event {
	ev := Event{Raw: raw}
	var joined []byte
	dataLines := 0
	for rest := raw; len(rest) > 0; {
		line := rest
		if i := indexLineEnd(rest); i >= 0 {
			line = rest[:i]
			next := i + 1
			if rest[i] == '\r' && next < len(rest) && rest[next] == '\n' {
				next++
			}
			rest = rest[next:]
		} else {
			rest = nil
		}
		if len(line) == 0 || line[0] == ':' {
			continue
		}
		field, value := line, line[len(line):]
		if c := bytes.IndexByte(line, ':'); c >= 0 {
			field, value = line[:c], line[c+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			dataLines++
			switch dataLines {
			case 1:
				ev.Data = value[:len(value):len(value)] // appending must not write into Raw
			case 2:
				joined = make([]byte, 0, len(ev.Data)+1+len(value))
				joined = append(joined, ev.Data...)
				fallthrough
			default:
				joined = append(joined, '\n')
				joined = append(joined, value...)
				ev.Data = joined
			}
		case "event":
			ev.Type = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.ID = string(value)
			}
		}
	}
	return ev
}
