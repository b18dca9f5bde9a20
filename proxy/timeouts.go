package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// errFirstByteTimeout ends an attempt whose upstream sent nothing usable
// (response headers, and for SSE streams the first event) within
// Config.UpstreamTimeout. It happens before the client got a byte, so the
// attempt loop retries on another key; ClassifyError calls it transient.
var errFirstByteTimeout = fmt.Errorf("upstream timed out before its first byte: %w", context.DeadlineExceeded)

// errStreamIdle ends a stream that sent nothing for Config.StreamIdleTimeout
// after its first byte. The client has part of the answer: the stream is
// cut as any broken stream is.
var errStreamIdle = fmt.Errorf("upstream stream stalled: %w", context.DeadlineExceeded)

// upstreamWatch enforces the timeouts of one upstream attempt by cancelling
// its context: first the first-byte timeout, then, once the answer streams
// to the client, the idle timeout, re-armed by every read of the body.
type upstreamWatch struct {
	cancel   context.CancelCauseFunc
	firstD   time.Duration
	idleD    time.Duration
	timer    *time.Timer
	idle     atomic.Bool // the stream phase
	finished atomic.Bool
	ctx      context.Context
}

// newUpstreamWatch returns the context of an attempt and its watch. The
// first-byte timer starts with arm.
func newUpstreamWatch(parent context.Context, cfg *Config) (context.Context, *upstreamWatch) {
	ctx, cancel := context.WithCancelCause(parent)
	w := &upstreamWatch{cancel: cancel, firstD: cfg.UpstreamTimeout, idleD: cfg.StreamIdleTimeout, ctx: ctx}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return ctx, w
}

func (w *upstreamWatch) fire() {
	if w.idle.Load() {
		w.cancel(errStreamIdle)
		return
	}
	w.cancel(errFirstByteTimeout)
}

// arm starts the first-byte timeout.
func (w *upstreamWatch) arm() {
	if !w.finished.Load() {
		w.timer.Reset(w.firstD)
	}
}

// streaming switches to the idle timeout: the answer is being passed on.
func (w *upstreamWatch) streaming() {
	w.idle.Store(true)
	w.timer.Reset(w.idleD)
}

// touch re-arms the idle timeout before a read of a streaming body.
func (w *upstreamWatch) touch() {
	if w.idle.Load() && !w.finished.Load() {
		w.timer.Reset(w.idleD)
	}
}

// end stops the timers and releases the attempt's context.
func (w *upstreamWatch) end() {
	if w.finished.Swap(true) {
		return
	}
	w.timer.Stop()
	w.cancel(nil)
}

// fail ends the watch and returns the error of a failed attempt: the
// timeout that cancelled it, if one did (and not the client), else err.
func (w *upstreamWatch) fail(err error) error {
	cause := context.Cause(w.ctx)
	w.end()
	if errors.Is(cause, errFirstByteTimeout) || errors.Is(cause, errStreamIdle) {
		return cause
	}
	return err
}

// watchedBody is an upstream body whose reads re-arm the idle timeout, and
// whose read error says which timeout cut it.
type watchedBody struct {
	io.ReadCloser
	watch *upstreamWatch
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.watch.touch()
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.watch.ctx); errors.Is(cause, errFirstByteTimeout) || errors.Is(cause, errStreamIdle) {
			err = cause
		}
	}
	return n, err
}

// armOnEOF starts the first-byte timeout once an upload body is sent.
type armOnEOF struct {
	r     io.Reader
	watch *upstreamWatch
}

func (a *armOnEOF) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err == io.EOF {
		a.watch.arm()
	}
	return n, err
}
