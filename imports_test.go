package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/build"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The import rules of DESIGN.md §2, checked with `go list` rather than by memory.

const module = "github.com/gemini-balance/desktop"

// listed is the part of `go list -json` output these tests read.
type listed struct {
	ImportPath string
	Name       string
	Imports    []string
	Error      *struct{ Err string }
}

// goList runs `go list -e -deps -test -json` for patterns on goos with cgo off (the proxy
// must build without cgo) and returns the packages by import path.
func goList(t *testing.T, goos string, patterns ...string) map[string]listed {
	t.Helper()
	goBin := filepath.Join(build.Default.GOROOT, "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Fatalf("go command not found: %v", err)
		}
	}
	args := append([]string{"list", "-e", "-deps", "-test", "-json=ImportPath,Name,Imports,Error"}, patterns...)
	cmd := exec.Command(goBin, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s (GOOS=%s): %v\n%s", strings.Join(args, " "), goos, err, stderr.Bytes())
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// plain strips the test-variant suffix: "x [x.test]" → "x".
func plain(importPath string) string {
	if i := strings.Index(importPath, " ["); i >= 0 {
		return importPath[:i]
	}
	return importPath
}

// importChain returns the first import chain from root to a package for which bad reports
// true, or nil.
func importChain(pkgs map[string]listed, root string, bad func(string) bool) []string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != root && bad(plain(p)) {
			var chain []string
			for q := p; q != ""; q = prev[q] {
				chain = append([]string{plain(q)}, chain...)
			}
			return chain
		}
		for _, imp := range pkgs[p].Imports {
			if _, seen := prev[imp]; !seen {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

var goosList = []string{"linux", "windows", "darwin"}

// violations collects forbidden import chains, each reported once with the OSes it occurs on.
type violations struct {
	order []string
	oses  map[string][]string
}

func (v *violations) add(goos string, chain []string) {
	if v.oses == nil {
		v.oses = map[string][]string{}
	}
	key := strings.Join(chain, " → ")
	if _, ok := v.oses[key]; !ok {
		v.order = append(v.order, key)
	}
	if !slices.Contains(v.oses[key], goos) {
		v.oses[key] = append(v.oses[key], goos)
	}
}

func (v *violations) report(t *testing.T, what string) {
	t.Helper()
	slices.Sort(v.order)
	for _, key := range v.order {
		t.Errorf("%s: %s (GOOS %s)", what, key, strings.Join(v.oses[key], ", "))
	}
}

// checkChains reports, for every listed package selected by root, an import chain to a
// package that bad rejects. Test binaries ("x.test") are skipped: their chains go through x.
func checkChains(pkgs map[string]listed, goos string, root, bad func(string) bool, v *violations) {
	for path := range pkgs {
		if strings.HasSuffix(path, ".test") || !root(plain(path)) {
			continue
		}
		if chain := importChain(pkgs, path, bad); chain != nil {
			v.add(goos, chain)
		}
	}
}

// TestProxyImports: nothing under proxy/ (tests included) imports the app, Wails, gorm, the
// SQLite driver, go-keyring or systray, on any OS, and it all resolves with cgo off.
func TestProxyImports(t *testing.T) {
	forbidden := []string{module + "/app", "github.com/wailsapp", "gorm.io", "github.com/glebarez", "modernc.org/sqlite", "github.com/zalando/go-keyring", "fyne.io/systray"}
	bad := func(p string) bool {
		for _, f := range forbidden {
			if under(p, f) {
				return true
			}
		}
		return false
	}
	inProxy := func(p string) bool { return under(p, module+"/proxy") }
	var v violations
	for _, goos := range goosList {
		pkgs := goList(t, goos, "./proxy/...")
		roots := 0
		for path, p := range pkgs {
			if !inProxy(plain(path)) {
				continue
			}
			roots++
			if p.Error != nil && goos == runtime.GOOS {
				t.Errorf("go list %s (CGO_ENABLED=0): %s", path, p.Error.Err)
			}
		}
		if roots == 0 {
			t.Fatalf("go list ./proxy/... (GOOS=%s) found no proxy packages", goos)
		}
		checkChains(pkgs, goos, inProxy, bad, &v)
	}
	v.report(t, "proxy imports a forbidden package")
}

// TestLeafPackageImports: app/store, app/keychain and app/tray (tests included) import
// neither the app package nor anything under proxy/; the app adapts between them.
func TestLeafPackageImports(t *testing.T) {
	var leaves []string
	for _, l := range []string{"app/store", "app/keychain", "app/tray"} {
		if _, err := os.Stat(filepath.FromSlash(l)); err == nil {
			leaves = append(leaves, l)
		}
	}
	if len(leaves) == 0 {
		t.Skip("no app/store, app/keychain or app/tray yet")
	}
	isLeaf := func(p string) bool {
		for _, l := range leaves {
			if p == module+"/"+l || p == module+"/"+l+"_test" {
				return true
			}
		}
		return false
	}
	bad := func(p string) bool { return p == module+"/app" || under(p, module+"/proxy") }
	var patterns []string
	for _, l := range leaves {
		patterns = append(patterns, "./"+l)
	}
	var v violations
	for _, goos := range goosList {
		checkChains(goList(t, goos, patterns...), goos, isLeaf, bad, &v)
	}
	v.report(t, "must import neither app nor proxy")
}

// TestNoGrabBagPackages: no package is named util, common, types, models or helpers.
func TestNoGrabBagPackages(t *testing.T) {
	banned := map[string]bool{"util": true, "utils": true, "common": true, "types": true, "models": true, "helpers": true}
	pkgs := goList(t, runtime.GOOS, "./...")
	for path, p := range pkgs {
		if !under(plain(path), module) || strings.HasSuffix(path, ".test") {
			continue
		}
		last := plain(path)[strings.LastIndex(plain(path), "/")+1:]
		if banned[strings.TrimSuffix(p.Name, "_test")] || banned[last] {
			t.Errorf("package %s (name %q) has a grab-bag name; name it after what it provides", plain(path), p.Name)
		}
	}
}
