package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pageOutFiles asks the kernel to reclaim now the resident pages of this
// process's private file mappings: program and library code and read-only
// data (MADV_PAGEOUT, Linux 5.4+). The kernel takes only the pages no other
// process maps, and brings a page back from its file when it is touched
// again, so nothing changes but what stays resident. It is for the window
// hidden in the tray: GTK's and WebKit's code for the window then sits in
// memory for nothing, and would leave only under memory pressure. Shared
// mappings (MIT-SHM, SQLite's shared memory) and anonymous memory are left
// alone. It returns the bytes of the mappings advised.
func pageOutFiles() (int64, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	var advised int64
	var failed error // EINVAL for all: a kernel before 5.4
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		m, ok := parseMapping(sc.Text())
		if !ok || !m.privateFile() {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_PAGEOUT); errno != 0 {
			failed = errno
			continue
		}
		advised += int64(m.end - m.start)
	}
	if advised == 0 && failed != nil {
		return 0, failed
	}
	return advised, sc.Err()
}

// mapping is one line of /proc/PID/maps.
type mapping struct {
	start, end uintptr
	perms      string // e.g. "r-xp"
	inode      uint64
	path       string
}

// parseMapping reads "start-end perms offset dev inode [path]".
func parseMapping(line string) (mapping, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	inode, err3 := strconv.ParseUint(f[4], 10, 64)
	if !ok || err1 != nil || err2 != nil || err3 != nil || end <= start {
		return mapping{}, false
	}
	m := mapping{start: uintptr(start), end: uintptr(end), perms: f[1], inode: inode}
	if len(f) > 5 {
		m.path = strings.Join(f[5:], " ")
	}
	return m, true
}

// privateFile reports whether m maps a regular file privately (not
// anonymous memory, a shared mapping, a device or a SysV/memfd segment).
func (m mapping) privateFile() bool {
	return m.inode != 0 && strings.HasSuffix(m.perms, "p") && strings.HasPrefix(m.path, "/") &&
		!strings.HasPrefix(m.path, "/dev/") && !strings.HasPrefix(m.path, "/SYSV") && !strings.HasPrefix(m.path, "/memfd:")
}
