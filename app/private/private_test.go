package private

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDirAndFile(t *testing.T) {
	dir := filepath.Join(tempDir(t), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "secrets.enc")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Dir(dir); err != nil {
		t.Fatalf("Dir(%q): %v", dir, err)
	}
	if err := File(file); err != nil {
		t.Fatalf("File(%q): %v", file, err)
	}
	if err := File(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("File(missing) = nil, want an error")
	}
	if runtime.GOOS == "windows" {
		checkWindowsACL(t, dir, file)
		return
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, file: 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}
	// Stricter modes stay as they are.
	os.Chmod(file, 0o400)
	if err := File(file); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o400 {
		t.Errorf("File loosened a 0400 file to %v", st.Mode().Perm())
	}
}

// tempDir is t.TempDir, except that failing to remove it is not an error:
// under wine a restricted file cannot always be unlinked.
func tempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "private-test-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
