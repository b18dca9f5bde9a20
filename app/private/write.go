package private

import (
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile replaces path with data atomically: a private temporary file
// (File: 0600, the ACL on Windows) beside it, synced, renamed over path,
// and the directory synced (SyncDir). A reader sees the old file or the
// new one, never a part.
func WriteFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if err = File(tmp.Name()); err != nil { // the ACL on Windows, where 0600 is only read-only
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	SyncDir(dir)
	return nil
}

// SyncDir makes a rename or link in dir durable. It is best effort: the
// change is already visible to every process (all a crash of this process
// needs); the directory fsync only adds safety against power loss, and
// Windows cannot fsync a directory.
func SyncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
