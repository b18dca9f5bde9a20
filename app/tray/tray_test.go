package tray

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// recorder is an Actions that records the calls it gets.
type recorder struct {
	mu    sync.Mutex
	calls []string
	fired chan string
}

func newRecorder() *recorder { return &recorder{fired: make(chan string, 64)} }

func (r *recorder) add(call string) {
	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
	r.fired <- call
}

func (r *recorder) OpenWindow()            { r.add("OpenWindow") }
func (r *recorder) CopyOpenAIBaseURL()     { r.add("CopyOpenAIBaseURL") }
func (r *recorder) CopyGeminiBaseURL()     { r.add("CopyGeminiBaseURL") }
func (r *recorder) CopyAccessKey()         { r.add("CopyAccessKey") }
func (r *recorder) CheckAllKeys()          { r.add("CheckAllKeys") }
func (r *recorder) PruneDeadKeys()         { r.add("PruneDeadKeys") }
func (r *recorder) SetPassthrough(on bool) { r.add(fmt.Sprintf("SetPassthrough(%v)", on)) }
func (r *recorder) SetPaused(paused bool)  { r.add(fmt.Sprintf("SetPaused(%v)", paused)) }
func (r *recorder) Quit()                  { r.add("Quit") }

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func stateWith(f func(*State)) State {
	s := State{Running: true, Port: 8321}
	f(&s)
	return s
}

func noop(*State)            {}
func passthroughOn(s *State) { s.Passthrough = true }
func paused(s *State)        { s.Paused = true }

func TestDispatch(t *testing.T) {
	tests := []struct {
		id    ItemID
		state func(*State)
		want  string
	}{
		{ItemOpen, noop, "OpenWindow"},
		{ItemCopyOpenAI, noop, "CopyOpenAIBaseURL"},
		{ItemCopyGemini, noop, "CopyGeminiBaseURL"},
		{ItemCopyKey, noop, "CopyAccessKey"},
		{ItemCheckKeys, noop, "CheckAllKeys"},
		{ItemPruneDead, noop, "PruneDeadKeys"},
		{ItemPassthrough, noop, "SetPassthrough(true)"},
		{ItemPassthrough, passthroughOn, "SetPassthrough(false)"},
		{ItemPause, noop, "SetPaused(true)"},
		{ItemPause, paused, "SetPaused(false)"},
		{ItemQuit, noop, "Quit"},
	}
	for _, tt := range tests {
		r := newRecorder()
		tr := New(r, discard())
		s := stateWith(tt.state)
		tr.Update(s)
		tr.dispatch(tt.id)
		if got := r.got(); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("dispatch(%q) with %+v called %q, want %q", tt.id, s, got, tt.want)
		}
	}
	r := newRecorder()
	New(r, discard()).dispatch(ItemStatus)
	if got := r.got(); len(got) != 0 {
		t.Errorf("dispatch(%q) called %q, want nothing", ItemStatus, got)
	}
}

func TestUpdateKeepsNewest(t *testing.T) {
	tr := New(newRecorder(), nil)
	for i := 1; i <= 100; i++ {
		tr.Update(State{Port: i}) // must never block, nobody drains kick
	}
	if got := tr.snapshot().Port; got != 100 {
		t.Errorf("snapshot().Port after 100 updates = %d, want 100", got)
	}
	if got := len(tr.kick); got != 1 {
		t.Errorf("pending kicks = %d, want 1", got)
	}
}

func TestStopWithoutStart(t *testing.T) {
	tr := New(newRecorder(), nil)
	tr.Stop() // must not panic or block
	tr.Stop()
}
