package app

import "sync"

// hub fans status updates out to subscribers. Each subscriber has a
// one-slot channel that always holds the latest status, so a slow reader
// never blocks the publisher and never sees stale backlog.
type hub struct {
	mu   sync.Mutex
	subs map[chan Status]struct{}
}

func newHub() *hub { return &hub{subs: map[chan Status]struct{}{}} }

func (h *hub) subscribe() (<-chan Status, func()) {
	ch := make(chan Status, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

func (h *hub) publish(s Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case <-ch: // drop the stale one
		default:
		}
		select {
		case ch <- s:
		default:
		}
	}
}
