package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// child is a server process started by the parent.
type child struct {
	role  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	addr  string // host:port it listens on
	errs  *tail  // the end of its stderr, for error messages

	mu   sync.Mutex // one control exchange at a time
	done chan struct{}
}

// tail keeps the last bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// startChild re-executes this binary in role and waits for its address.
func startChild(ctx context.Context, role string, args []string, verbose bool) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.Command(exe, append([]string{role}, args...)...)
	cmd.Env = os.Environ() // GOMAXPROCS and the rest unchanged
	c := &child{role: role, cmd: cmd, errs: &tail{}, done: make(chan struct{})}
	if verbose {
		cmd.Stderr = io.MultiWriter(os.Stderr, c.errs)
	} else {
		cmd.Stderr = c.errs
	}
	dieWithParent(cmd)
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.out = bufio.NewReader(stdout)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", role, err)
	}
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	line, err := c.readLine(ctx, 30*time.Second)
	if err != nil {
		c.kill()
		return nil, fmt.Errorf("%s did not start: %v %s", role, err, c.errs.String())
	}
	addr, ok := strings.CutPrefix(line, "ready ")
	if !ok {
		c.kill()
		return nil, fmt.Errorf("%s said %q %s", role, line, c.errs.String())
	}
	c.addr = addr
	return c, nil
}

// readLine reads one line of the child's stdout within d.
func (c *child) readLine(ctx context.Context, d time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := c.out.ReadString('\n')
		ch <- result{strings.TrimSpace(line), err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.C:
		return "", errors.New("timed out")
	case <-c.done:
		select {
		case r := <-ch:
			return r.line, r.err
		default:
		}
		return "", errors.New("exited")
	}
}

// usage is what a child says about itself.
type usage struct {
	CPU       time.Duration // user + system
	MaxRSSKiB int64
}

// stat asks the child for its CPU time and peak RSS.
func (c *child) stat(ctx context.Context) (usage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.stdin, "stat\n"); err != nil {
		return usage{}, fmt.Errorf("%s: %w", c.role, err)
	}
	line, err := c.readLine(ctx, 10*time.Second)
	if err != nil {
		return usage{}, fmt.Errorf("%s: %w", c.role, err)
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "stat" {
		return usage{}, fmt.Errorf("%s: %s", c.role, line)
	}
	var n [3]int64
	for i := range n {
		if n[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return usage{}, fmt.Errorf("%s: %q: %w", c.role, line, err)
		}
	}
	return usage{CPU: time.Duration(n[0] + n[1]), MaxRSSKiB: n[2]}, nil
}

// command sends one line to the child and returns its one-line answer.
func (c *child) command(ctx context.Context, cmd string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		return "", fmt.Errorf("%s: %w", c.role, err)
	}
	line, err := c.readLine(ctx, 30*time.Second)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", c.role, cmd, err)
	}
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return "", fmt.Errorf("%s: %s: %s", c.role, cmd, msg)
	}
	return line, nil
}

// stop closes the child's stdin (it shuts down and exits) and kills it if
// it has not exited after a grace period.
func (c *child) stop() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(6 * time.Second):
		c.kill()
	}
}

// kill ends the child at once.
func (c *child) kill() {
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
	<-c.done
}
