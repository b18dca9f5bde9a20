//go:build windows

package private

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// Dir gives the directory path a protected DACL (inheritance from the
// parent cut) with full control for the current user and SYSTEM, inherited
// by everything inside it, existing files included.
func Dir(path string) error {
	return restrict(path, windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT)
}

// File gives the file path a protected DACL with full control for the
// current user and SYSTEM only.
func File(path string) error { return restrict(path, windows.NO_INHERITANCE) }

func restrict(path string, inherit uint32) error {
	acl, err := userOnlyACL(inherit)
	if err != nil {
		return fmt.Errorf("restrict %s to the current user: %w", path, err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil)
	if err != nil {
		return fmt.Errorf("restrict %s to the current user: %w", path, err)
	}
	return nil
}

// userOnlyACL grants full control to the current user and to SYSTEM.
func userOnlyACL(inherit uint32) (*windows.ACL, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	system, err := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	if err != nil {
		return nil, fmt.Errorf("SYSTEM's SID: %w", err)
	}
	entry := func(sid *windows.SID, kind windows.TRUSTEE_TYPE) windows.EXPLICIT_ACCESS {
		return windows.EXPLICIT_ACCESS{
			AccessPermissions: windows.GENERIC_ALL,
			AccessMode:        windows.GRANT_ACCESS,
			Inheritance:       inherit,
			Trustee: windows.TRUSTEE{
				TrusteeForm:  windows.TRUSTEE_IS_SID,
				TrusteeType:  kind,
				TrusteeValue: windows.TrusteeValueFromSID(sid),
			},
		}
	}
	return windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{
		entry(tu.User.Sid, windows.TRUSTEE_IS_USER),
		entry(system, windows.TRUSTEE_IS_WELL_KNOWN_GROUP),
	}, nil)
}
