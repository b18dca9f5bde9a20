package proxy

import (
	"container/list"
	"net"
	"net/http"
	"sync"
)

// waitingConns bounds the connections that hold resources without serving
// a request: those still sending their first request's headers and those
// idle between requests. Past the limit the oldest of them is closed, so
// that a flood of half-open connections (slowloris) costs a bounded amount
// of memory and file descriptors, and a new client still gets in, instead
// of every connection being kept until ReadHeaderTimeout and new ones
// waiting behind them once the process runs out of file descriptors.
// Connections serving a request are never closed here (their reads and
// writes have time limits of their own).
type waitingConns struct {
	max   int
	mu    sync.Mutex
	order *list.List // oldest first
	elems map[net.Conn]*list.Element
}

func newWaitingConns(max int) *waitingConns {
	return &waitingConns{max: max, order: list.New(), elems: map[net.Conn]*list.Element{}}
}

// connState is the http.Server.ConnState hook.
func (w *waitingConns) connState(c net.Conn, st http.ConnState) {
	var evict []net.Conn
	w.mu.Lock()
	switch st {
	case http.StateNew, http.StateIdle:
		if _, ok := w.elems[c]; !ok {
			w.elems[c] = w.order.PushBack(c)
		}
		for w.order.Len() > w.max {
			oldest := w.order.Front()
			old := oldest.Value.(net.Conn)
			w.order.Remove(oldest)
			delete(w.elems, old)
			evict = append(evict, old)
		}
	default: // active, hijacked, closed
		if e, ok := w.elems[c]; ok {
			w.order.Remove(e)
			delete(w.elems, c)
		}
	}
	w.mu.Unlock()
	for _, c := range evict {
		c.Close()
	}
}
