//go:build windows

package private

import (
	"testing"

	"golang.org/x/sys/windows"
)

// checkWindowsACL reads the DACLs back: protected, and granting only the
// current user and SYSTEM.
func checkWindowsACL(t *testing.T, paths ...string) {
	if underWine() {
		// Wine maps a DACL onto Unix mode bits and synthesises one back
		// from them: it cannot show NTFS permissions.
		t.Log("under wine: the calls succeeded; the DACL read-back needs real Windows")
		return
	}
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	system, _ := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	for _, p := range paths {
		sd, err := windows.GetNamedSecurityInfo(p, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			t.Fatalf("GetNamedSecurityInfo(%s): %v", p, err)
		}
		ctl, _, err := sd.Control()
		if err != nil {
			t.Fatal(err)
		}
		if ctl&windows.SE_DACL_PROTECTED == 0 {
			t.Errorf("%s: DACL is not protected (control %#x): it still inherits from the parent", p, ctl)
		}
		dacl, _, err := sd.DACL()
		if err != nil || dacl == nil {
			t.Fatalf("%s: no DACL: %v", p, err)
		}
		n := int(dacl.AceCount)
		if n != 2 {
			t.Errorf("%s: %d ACEs (%s), want 2 (user, SYSTEM)", p, n, sd.String())
		}
		for i := 0; i < n; i++ {
			var ace *windows.ACCESS_ALLOWED_ACE
			if err := windows.GetAce(dacl, uint32(i), &ace); err != nil {
				t.Fatal(err)
			}
			sid := (*windows.SID)(unsafePointer(&ace.SidStart))
			if !sid.Equals(tu.User.Sid) && !sid.Equals(system) {
				t.Errorf("%s: ACE %d grants %s, want only the user and SYSTEM (%s)", p, i, sid, sd.String())
			}
		}
	}
}

// underWine reports whether ntdll is wine's (it exports wine_get_version).
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
