package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageOutFiles gives back the resident pages of a private file mapping
// (which read back the same), and leaves shared file mappings and
// anonymous memory resident.
func TestPageOutFiles(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s is on tmpfs, whose pages the kernel reclaims only to swap; set TMPDIR to a disk", dir)
	}
	const size = 8 << 20
	data := bytes.Repeat([]byte("gbd!"), size/4)
	private := mapFile(t, filepath.Join(dir, "private"), data, unix.MAP_PRIVATE)
	shared := mapFile(t, filepath.Join(dir, "shared"), data, unix.MAP_SHARED)
	anon, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(anon)
	var sum byte
	for i := 0; i < size; i += 4096 { // make every page resident
		anon[i] = 1
		sum += private[i] + shared[i]
	}
	sink = sum
	for name, m := range map[string][]byte{"private": private, "shared": shared, "anonymous": anon} {
		if kib := residentKiB(t, m); kib < size>>10 {
			t.Fatalf("%s mapping: %d KiB resident before, want all %d KiB", name, kib, size>>10)
		}
	}

	advised, err := pageOutFiles()
	if err != nil {
		t.Fatalf("pageOutFiles: %v", err)
	}
	if advised < size {
		t.Fatalf("pageOutFiles advised %d bytes, fewer than the private mapping's %d", advised, size)
	}
	if kib := residentKiB(t, private); kib > 256 {
		t.Errorf("private file mapping: %d KiB still resident after pageOutFiles", kib)
	}
	for name, m := range map[string][]byte{"shared": shared, "anonymous": anon} {
		if kib := residentKiB(t, m); kib < size>>10 {
			t.Errorf("%s mapping: %d KiB resident after pageOutFiles, want all %d KiB (left alone)", name, kib, size>>10)
		}
	}
	if !bytes.Equal(private, data) {
		t.Fatal("the private mapping reads back different bytes")
	}
}

// sink keeps the page reads of TestPageOutFiles from being optimised away.
var sink byte

// mapFile writes data to path and maps it read-only with flags.
func mapFile(t *testing.T, path string, data []byte, flags int) []byte {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, len(data), unix.PROT_READ, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	return m
}

// residentKiB is the Rss of the mapping that starts at m's first byte
// (/proc/self/smaps).
func residentKiB(t *testing.T, m []byte) int {
	t.Helper()
	start := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&m[0])))
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		if _, header := parseMapping(line); header {
			in = strings.HasPrefix(line, start)
			continue
		}
		if rss, ok := strings.CutPrefix(line, "Rss:"); in && ok {
			kib, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rss), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return kib
		}
	}
	t.Fatalf("no mapping at %s in /proc/self/smaps", start)
	return 0
}

// parseMapping reads the lines of /proc/PID/maps, paths with spaces included.
func TestParseMapping(t *testing.T) {
	for _, c := range []struct {
		line    string
		want    mapping
		ok      bool
		private bool
	}{
		{"55d0c0a00000-55d0c0b00000 r-xp 00001000 fe:01 1234 /usr/bin/gemini balance", mapping{0x55d0c0a00000, 0x55d0c0b00000, "r-xp", 1234, "/usr/bin/gemini balance"}, true, true},
		{"7f00-8000 rw-s 00000000 00:01 5 /SYSV00000000 (deleted)", mapping{0x7f00, 0x8000, "rw-s", 5, "/SYSV00000000 (deleted)"}, true, false},
		{"7f00-8000 rw-s 00000000 fe:01 77 /data/gemini-balance.db-shm", mapping{0x7f00, 0x8000, "rw-s", 77, "/data/gemini-balance.db-shm"}, true, false},
		{"7f00-8000 rw-p 00000000 00:00 0 ", mapping{0x7f00, 0x8000, "rw-p", 0, ""}, true, false},
		{"7ffd0000-7ffd1000 rw-p 00000000 00:00 0 [stack]", mapping{0x7ffd0000, 0x7ffd1000, "rw-p", 0, "[stack]"}, true, false},
		{"7f00-8000 r--p 00000000 00:05 9 /dev/dri/renderD128", mapping{0x7f00, 0x8000, "r--p", 9, "/dev/dri/renderD128"}, true, false},
		{"7f00-8000 r--p 00000000 00:01 9 /memfd:wayland-shm (deleted)", mapping{0x7f00, 0x8000, "r--p", 9, "/memfd:wayland-shm (deleted)"}, true, false},
		{"8000-7f00 r--p 00000000 00:01 9 /x", mapping{}, false, false},
		{"garbage", mapping{}, false, false},
	} {
		got, ok := parseMapping(c.line)
		if ok != c.ok || got != c.want || got.privateFile() != c.private {
			t.Errorf("parseMapping(%q) = %+v, %v (private file %v); want %+v, %v (%v)", c.line, got, ok, got.privateFile(), c.want, c.ok, c.private)
		}
	}
}
