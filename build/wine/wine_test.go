package wine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

// The lane's inputs, made by build/test.sh (wine_lane):
//
//	$GBD_WINE_DIR/gemini-balance-desktop.exe  the Windows build (-tags desktop,production, -H=windowsgui)
//	$GBD_WINE_DIR/gemini-balance-desktop.com  its console twin (build/windows/cli)
//	$GBD_WINE_DIR/consolehost.exe             build/wine/consolehost
//	$GBD_WINE_DIR/*.test.exe                  Windows test binaries of packages with Windows code
//	$GBD_WINE_DIR/prefix                      the wine prefix (build/wine/prefix.sh)
//
// and a display (xvfb-run) for the console and the message box.
type lane struct {
	t   *testing.T
	dir string
	exe string
	env []string
}

func newLane(t *testing.T) *lane {
	dir := os.Getenv("GBD_WINE_DIR")
	if dir == "" {
		t.Skip("GBD_WINE_DIR is not set: the wine lane runs from build/test.sh (stage wine)")
	}
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("the wine lane needs a display (run it under xvfb-run)")
	}
	env := append(os.Environ(), "WINEPREFIX="+filepath.Join(dir, "prefix"), "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	// No proxy from the environment: the lane sets the Windows one.
	env = slicesFilter(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY":
			return false
		}
		return true
	})
	return &lane{t: t, dir: dir, exe: filepath.Join(dir, "gemini-balance-desktop.exe"), env: env}
}

func slicesFilter(in []string, keep func(string) bool) []string {
	var out []string
	for _, s := range in {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// win turns a Linux path into the path a Windows program sees (Z: is /).
func win(path string) string { return `Z:` + strings.ReplaceAll(path, "/", `\`) }

// wine runs a Windows program to its end and returns its stdout, stderr
// and exit code.
func (l *lane) wine(timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wine", args...)
	cmd.Env = l.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		l.t.Fatalf("wine %s: timed out after %v\n%s", strings.Join(args, " "), timeout, e.String())
	}
	if err != nil && code < 0 {
		l.t.Fatalf("wine %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), wineNoise(e.String()), code
}

// wineNoise drops wine's own notes (a missing wine32) from stderr.
func wineNoise(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "wine32 is missing") || strings.Contains(line, "multiarch needs") ||
			strings.Contains(line, "dpkg --add-architecture") || strings.Contains(line, "apt-get install wine32") {
			continue
		}
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// reg runs wine's reg.exe.
func (l *lane) reg(args ...string) string {
	l.t.Helper()
	out, errOut, code := l.wine(time.Minute, append([]string{"reg"}, args...)...)
	if code != 0 {
		l.t.Fatalf("wine reg %s: exit %d: %s %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// background is a Windows program left running.
type background struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (l *lane) start(args ...string) *background {
	l.t.Helper()
	cmd := exec.Command("wine", append([]string{l.exe}, args...)...)
	cmd.Env = l.env
	b := &background{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = b.logs, b.logs
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	go func() { cmd.Wait(); close(b.done) }()
	l.t.Cleanup(func() { b.stop() })
	return b
}

func (b *background) stop() {
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}

// waitFor polls until ok reports true or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func up(addr string) bool {
	resp, err := http.Get("http://" + addr + "/api/session")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// api calls the management API with the admin password.
func api(t *testing.T, addr, password, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s = %d: %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

func testKey(i int) string { return fmt.Sprintf("AIzaSyWineLane%02d_abcdefghijklmnopqrstuv", i) }

const internetSettings = `HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings`

// forwardProxy is a real HTTP forward proxy on loopback that counts the
// requests it forwards; it resolves "gemini.test" to loopback.
func forwardProxy(t *testing.T) (addr string, hits *atomic.Int32) {
	hits = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		out := r.Clone(context.Background())
		out.RequestURI = ""
		if h, p, err := net.SplitHostPort(out.URL.Host); err == nil && h == "gemini.test" {
			out.URL.Host = net.JoinHostPort("127.0.0.1", p)
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), hits
}

// TestWindowsUnderWine is the Windows lane. The steps share one wine prefix
// and run in order.
func TestWindowsUnderWine(t *testing.T) {
	l := newLane(t)
	t.Cleanup(func() {
		cmd := exec.Command("wineserver", "-k")
		cmd.Env = l.env
		cmd.Run()
	})

	t.Run("WindowsUnitTests", func(t *testing.T) {
		// Windows code tested by its own package tests, run as Windows programs.
		// Wine reports the host locale as the Windows UI language: a Chinese
		// locale compiled into a temporary LOCPATH shows that it is followed.
		locales := filepath.Join(l.dir, "locale")
		if _, err := os.Stat(filepath.Join(locales, "zh_CN.UTF-8")); err != nil {
			os.MkdirAll(locales, 0o755)
			if out, err := exec.Command("localedef", "-i", "zh_CN", "-f", "UTF-8", filepath.Join(locales, "zh_CN.UTF-8")).CombinedOutput(); err != nil {
				t.Fatalf("localedef zh_CN.UTF-8 (apt package locales): %v: %s", err, out)
			}
		}
		zh := []string{"LOCPATH=" + locales, "LC_ALL=zh_CN.UTF-8", "GBD_WANT_UI_LANG=zh-CN"}
		for _, tc := range []struct {
			exe, run string
			env      []string
		}{
			{"private.test.exe", "", nil},  // ACLs on the data dir and the secrets file
			{"sysproxy.test.exe", "", nil}, // the Internet settings in the registry
			{"app.test.exe", "TestAutostartWindows|TestOSLanguages|TestPickLanguage", zh}, // Run key, UI language
		} {
			saved := l.env
			l.env = append(append([]string(nil), l.env...), tc.env...)
			out, errOut, code := l.wine(3*time.Minute, filepath.Join(l.dir, tc.exe), "-test.v", "-test.count=1", "-test.run", tc.run)
			l.env = saved
			if code != 0 || !strings.Contains(out, "PASS") {
				t.Errorf("%s: exit %d\n%s\n%s", tc.exe, code, out, errOut)
				continue
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "--- ") || strings.Contains(line, "_test.go:") {
					t.Logf("%s: %s", tc.exe, strings.TrimSpace(line))
				}
			}
		}
	})

	t.Run("Console", func(t *testing.T) {
		// A GUI exe started the way cmd.exe starts it: no standard handles.
		host := filepath.Join(l.dir, "consolehost.exe")
		outFile := filepath.Join(l.dir, "console.txt")
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"version"}, 0, ""},
			{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
			{[]string{"--help"}, 0, "Usage:"},
		} {
			_, errOut, code := l.wine(time.Minute, append([]string{host, win(outFile), l.exe}, tc.args...)...)
			text, _ := os.ReadFile(outFile)
			if code != 0 {
				t.Fatalf("consolehost %v: exit %d: %s %s", tc.args, code, errOut, text)
			}
			lines := strings.SplitN(string(text), "\n", 2)
			if lines[0] != fmt.Sprintf("exit %d", tc.code) {
				t.Errorf("%v: %q, want exit %d", tc.args, lines[0], tc.code)
			}
			body := ""
			if len(lines) > 1 {
				body = strings.TrimSpace(lines[1])
			}
			if body == "" || !strings.Contains(body, tc.want) {
				t.Errorf("%v printed %q to the console, want text containing %q", tc.args, body, tc.want)
			}
		}
	})

	t.Run("ConsoleTwin", func(t *testing.T) {
		// gemini-balance-desktop.com beside the exe: cmd picks it before the
		// .exe, waits for it and gets the exit code.
		cmdline := fmt.Sprintf(`cd /d %s && gemini-balance-desktop frobnicate`, win(l.dir))
		out, errOut, code := l.wine(time.Minute, "cmd", "/c", cmdline)
		if code != 2 || !strings.Contains(out+errOut, `unknown command "frobnicate"`) {
			t.Errorf("cmd /c %q: exit %d, output %q %q; want exit 2 and the error", cmdline, code, out, errOut)
		}
		cmdline = fmt.Sprintf(`cd /d %s && gemini-balance-desktop version`, win(l.dir))
		if out, errOut, code := l.wine(time.Minute, "cmd", "/c", cmdline); code != 0 || strings.TrimSpace(out) == "" {
			t.Errorf("cmd /c %q: exit %d, output %q %q", cmdline, code, out, errOut)
		}
	})

	data := win(filepath.Join(l.dir, "data"))
	fake := proxytest.New(t)
	keys := []string{testKey(1), testKey(2), testKey(3)}
	var adminPassword, accessKey string

	t.Run("KeysInCredentialManager", func(t *testing.T) {
		keyFile := filepath.Join(l.dir, "keys.txt")
		os.WriteFile(keyFile, []byte(strings.Join(keys, "\n")+"\n"), 0o600)
		out, errOut, code := l.wine(2*time.Minute, l.exe, "keys", "add", win(keyFile), "--data-dir", data)
		if code != 0 || !strings.Contains(out, "added 3") {
			t.Fatalf("keys add: exit %d: %s\n%s", code, out, errOut)
		}
		out, errOut, code = l.wine(time.Minute, l.exe, "keys", "list", "--data-dir", data)
		if code != 0 || !strings.Contains(out, "3 keys") {
			t.Fatalf("keys list: exit %d: %s\n%s", code, out, errOut)
		}
		for _, k := range keys {
			if strings.Contains(out+errOut, k) {
				t.Errorf("keys list printed a raw key")
			}
		}
		// The keys are in wine's Credential Manager (CredWrite), not in a file.
		creds := l.reg("query", `HKCU\Software\Wine\Credential Manager`, "/s")
		if n := strings.Count(strings.ToLower(creds), "gemini-balance-desktop"); n < 3 {
			t.Errorf("Credential Manager holds %d gemini-balance-desktop items, want at least 3:\n%s", n, creds)
		}
		if strings.Contains(creds, keys[0]) {
			t.Errorf("a raw key is readable in the registry dump")
		}
		out, _, code = l.wine(time.Minute, l.exe, "admin-password", "--data-dir", data)
		adminPassword = strings.TrimSpace(lastLine(out))
		if code != 0 || len(adminPassword) < 12 {
			t.Fatalf("admin-password: exit %d: %q", code, out)
		}
		out, _, code = l.wine(time.Minute, l.exe, "access-key", "--data-dir", data)
		accessKey = strings.TrimSpace(lastLine(out))
		if code != 0 || accessKey == "" {
			t.Fatalf("access-key: exit %d: %q", code, out)
		}
	})
	if adminPassword == "" {
		t.FailNow()
	}

	addr := freeAddr(t)
	var srv *background
	t.Run("ServeAndProxy", func(t *testing.T) {
		srv = l.start("serve", "--data-dir", data, "--addr", addr)
		waitFor(t, "the headless server under wine", time.Minute, func() bool { return up(addr) })
		var settings map[string]any
		if code := api(t, addr, adminPassword, "PATCH", "/api/settings", map[string]any{"upstream": fake.URL()}, &settings); code != 200 {
			t.Fatalf("PATCH /api/settings = %d", code)
		}
		var keyList struct {
			Total int `json:"total"`
		}
		if code := api(t, addr, adminPassword, "GET", "/api/keys", nil, &keyList); code != 200 || keyList.Total != 3 {
			t.Errorf("GET /api/keys = %d, total %d, want 200 and 3", code, keyList.Total)
		}
		body := `{"contents":[{"parts":[{"text":"Hello from wine"}]}]}`
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1beta/models/gemini-2.5-flash:generateContent", strings.NewReader(body))
		req.Header.Set("x-goog-api-key", accessKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "candidates") {
			t.Fatalf("generateContent through the Windows build = %d: %s\n%s", resp.StatusCode, b, srv.logs.String())
		}
		used := 0
		for _, k := range keys {
			used += fake.CountFor(k)
		}
		if used != 1 {
			t.Errorf("the fake Gemini saw %d requests with pool keys, want 1", used)
		}
	})

	t.Run("StartAtLogin", func(t *testing.T) {
		const runKey = `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`
		if code := api(t, addr, adminPassword, "PATCH", "/api/settings", map[string]any{"startAtLogin": true}, nil); code != 200 {
			t.Fatalf("PATCH startAtLogin = %d", code)
		}
		out := l.reg("query", runKey, "/v", "GeminiBalanceDesktop")
		if !strings.Contains(out, `gemini-balance-desktop.exe" --hidden`) {
			t.Errorf("Run key = %q, want the quoted exe and --hidden", out)
		}
		if code := api(t, addr, adminPassword, "PATCH", "/api/settings", map[string]any{"startAtLogin": false}, nil); code != 200 {
			t.Fatalf("PATCH startAtLogin false = %d", code)
		}
		if _, _, code := l.wine(time.Minute, "reg", "query", runKey, "/v", "GeminiBalanceDesktop"); code == 0 {
			t.Errorf("the Run key value is still there after turning start at login off")
		}
	})

	t.Run("SystemProxyFromRegistry", func(t *testing.T) {
		prx, hits := forwardProxy(t)
		// As Clash / v2rayN write it.
		l.reg("add", internetSettings, "/v", "ProxyServer", "/t", "REG_SZ", "/d", "http="+prx+";https="+prx, "/f")
		l.reg("add", internetSettings, "/v", "ProxyOverride", "/t", "REG_SZ", "/d", "localhost;127.*;<local>", "/f")
		l.reg("add", internetSettings, "/v", "ProxyEnable", "/t", "REG_DWORD", "/d", "1", "/f")
		t.Cleanup(func() {
			l.wine(time.Minute, "reg", "add", internetSettings, "/v", "ProxyEnable", "/t", "REG_DWORD", "/d", "0", "/f")
		})
		// A non-loopback upstream name (loopback is never proxied): only the proxy resolves it.
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(fake.URL(), "http://"))
		if code := api(t, addr, adminPassword, "PATCH", "/api/settings", map[string]any{"upstream": "http://gemini.test:" + port}, nil); code != 200 {
			t.Fatalf("PATCH upstream = %d", code)
		}
		var st struct {
			SystemProxy *struct {
				Source string   `json:"source"`
				Proxy  string   `json:"proxy"`
				Bypass []string `json:"bypass"`
			} `json:"systemProxy"`
		}
		// The server re-reads the OS setting within 5 s.
		waitFor(t, "status.systemProxy from the registry", 15*time.Second, func() bool {
			api(t, addr, adminPassword, "GET", "/api/status", nil, &st)
			return st.SystemProxy != nil && st.SystemProxy.Source == "windows"
		})
		if st.SystemProxy.Proxy != "http://"+prx {
			t.Errorf("status.systemProxy.proxy = %q, want http://%s", st.SystemProxy.Proxy, prx)
		}
		waitFor(t, "a request through the Windows system proxy", 20*time.Second, func() bool {
			req, _ := http.NewRequest("POST", "http://"+addr+"/v1beta/models/gemini-2.5-flash:generateContent",
				strings.NewReader(`{"contents":[{"parts":[{"text":"via the system proxy"}]}]}`))
			req.Header.Set("x-goog-api-key", accessKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200 && hits.Load() > 0
		})

		// An auto-config script: Windows (here wine's WinHTTP) evaluates it.
		prx2, hits2 := forwardProxy(t)
		pac := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
			fmt.Fprintf(w, "function FindProxyForURL(url, host) { if (host == \"gemini.test\") return \"PROXY %s\"; return \"DIRECT\"; }\n", prx2)
		}))
		defer pac.Close()
		l.reg("add", internetSettings, "/v", "AutoConfigURL", "/t", "REG_SZ", "/d", pac.URL+"/proxy.pac", "/f")
		t.Cleanup(func() { l.wine(time.Minute, "reg", "delete", internetSettings, "/v", "AutoConfigURL", "/f") })
		ok := false
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && !ok {
			req, _ := http.NewRequest("POST", "http://"+addr+"/v1beta/models/gemini-2.5-flash:generateContent",
				strings.NewReader(`{"contents":[{"parts":[{"text":"via PAC"}]}]}`))
			req.Header.Set("x-goog-api-key", accessKey)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				ok = resp.StatusCode == 200 && hits2.Load() > 0
			}
			time.Sleep(time.Second)
		}
		if !ok {
			t.Errorf("no request went through the proxy chosen by the auto-config script (PAC hits %d)", hits2.Load())
		} else {
			t.Logf("PAC evaluated by WinHTTP: %d request(s) through its proxy", hits2.Load())
		}
		api(t, addr, adminPassword, "PATCH", "/api/settings", map[string]any{"upstream": fake.URL()}, nil)
	})
	if srv != nil {
		srv.stop()
	}

	t.Run("NoWebView2", func(t *testing.T) {
		// wine has no WebView2: the desktop build must run without its window.
		opened := filepath.Join(l.dir, "opened.txt")
		recorder := filepath.Join(l.dir, "browser.sh")
		os.WriteFile(recorder, []byte("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '"+opened+"'\n"), 0o755)
		os.Remove(opened)
		// winebrowser (ShellExecute of an http URL) runs the first of these.
		l.reg("add", `HKCU\Software\Wine\WineBrowser`, "/v", "Browsers", "/t", "REG_SZ", "/d", recorder, "/f")
		daddr := freeAddr(t)
		app := l.start("--data-dir", data, "--addr", daddr)
		waitFor(t, "the proxy of the window-less desktop build", time.Minute, func() bool { return up(daddr) })
		waitFor(t, "the message in the log", 30*time.Second, func() bool { return strings.Contains(app.logs.String(), "msg=\"message shown\"") })
		if !strings.Contains(app.logs.String(), "WebView2 Runtime") || !strings.Contains(app.logs.String(), "go.microsoft.com/fwlink/p/?LinkId=2124703") {
			t.Errorf("the message does not name WebView2 and its download page:\n%s", app.logs.String())
		}
		// The message box is on screen.
		var win string
		waitFor(t, "the message box window", 30*time.Second, func() bool {
			out, _ := exec.Command("xdotool", "search", "--name", "^Gemini Balance Desktop$").Output()
			win = strings.TrimSpace(firstLine(string(out)))
			return win != ""
		})
		// The browser was sent a one-time login link, and it logs in.
		var link string
		waitFor(t, "the browser to be opened", 30*time.Second, func() bool {
			b, _ := os.ReadFile(opened)
			m := regexp.MustCompile(`http://[^\s]+/api/login/once/[0-9a-f]+`).Find(b)
			link = string(m)
			return link != ""
		})
		if strings.Contains(link, adminPassword) {
			t.Fatalf("the login link holds the admin password")
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			cookie = c
		}
		if resp.StatusCode != http.StatusSeeOther || cookie == nil {
			t.Fatalf("GET login link = %d, cookie %v; want 303 and a session", resp.StatusCode, cookie)
		}
		req, _ := http.NewRequest("GET", "http://"+daddr+"/api/status", nil)
		req.AddCookie(cookie)
		st, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		st.Body.Close()
		if st.StatusCode != 200 {
			t.Errorf("GET /api/status with the link's session = %d, want 200", st.StatusCode)
		}
		// A second launch opens the first one's UI and ends.
		if out, errOut, code := l.wine(time.Minute, l.exe, "--data-dir", data, "--addr", daddr); code != 0 {
			t.Errorf("second launch: exit %d: %s %s", code, out, errOut)
		}
		waitFor(t, "the second launch to open the UI", 30*time.Second, func() bool {
			b, _ := os.ReadFile(opened)
			return strings.Contains(string(b), "http://"+daddr+"/\n")
		})
		if n := strings.Count(app.logs.String(), "msg=\"message shown\""); n != 1 {
			t.Errorf("the message was shown %d times, want once", n)
		}
		// Yes (the default button) opens Microsoft's download page.
		exec.Command("xdotool", "windowactivate", "--sync", win).Run()
		exec.Command("xdotool", "key", "--window", win, "Return").Run()
		waitFor(t, "the WebView2 download page to be opened", 30*time.Second, func() bool {
			b, _ := os.ReadFile(opened)
			return strings.Contains(string(b), "go.microsoft.com/fwlink/p/?LinkId=2124703")
		})
		if !up(daddr) {
			t.Errorf("the proxy stopped after the message was answered")
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func firstLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	if sc.Scan() {
		return sc.Text()
	}
	return ""
}
