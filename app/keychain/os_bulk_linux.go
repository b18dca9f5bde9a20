package keychain

import (
	"context"
	"errors"
	"fmt"
	"slices"

	dbus "github.com/godbus/dbus/v5"
)

// Secret Service names (org.freedesktop.Secret), as go-keyring uses them.
const (
	ssName        = "org.freedesktop.secrets"
	ssPath        = "/org/freedesktop/secrets"
	ssService     = "org.freedesktop.Secret.Service"
	ssCollection  = "org.freedesktop.Secret.Collection"
	ssItem        = "org.freedesktop.Secret.Item"
	ssSession     = "org.freedesktop.Secret.Session"
	ssLogin       = "/org/freedesktop/secrets/collection/login"
	ssDefault     = "/org/freedesktop/secrets/aliases/default"
	dbusPropsGet  = "org.freedesktop.DBus.Properties.Get"
	bulkPipelined = 256 // attribute reads in flight at once
)

// ssSecret is the Secret Service's secret struct (oayays).
type ssSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// GetMany reads the secrets of many accounts at once (the accounts without
// a secret are absent from the map). On Linux it talks to the Secret
// Service directly: one search for the service's items, one GetSecrets for
// all of them and, to learn which item is which account, either the
// function given to DeriveAccounts (when the account is a function of the
// secret) or pipelined attribute reads — instead of go-keyring's seven round
// trips per item. The items are the ones go-keyring writes (same
// collection, attributes "service" and "username"). A locked collection is
// ErrUnavailable (no unlock prompt in bulk; a single Get may still
// prompt). Bounded by the store's timeout.
func (o *OS) GetMany(ctx context.Context, accounts []string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	got, err := o.getManyDBus(ctx, accounts)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return nil, unavailable(fmt.Errorf("keychain bulk read: no answer within %v (is the keyring locked?)", o.timeout))
		}
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, unavailable(fmt.Errorf("keychain bulk read: %w", err))
	}
	return got, nil
}

// getManyDBus returns the secrets of the wanted accounts under o.service.
func (o *OS) getManyDBus(ctx context.Context, accounts []string) (map[string]string, error) {
	wanted := make(map[string]bool, len(accounts))
	for _, a := range accounts {
		wanted[a] = true
	}
	conn, err := dbus.SessionBus() // shared with go-keyring
	if err != nil {
		return nil, err
	}
	svc := conn.Object(ssName, ssPath)
	coll, err := unlockedCollection(ctx, svc)
	if err != nil {
		return nil, err
	}
	var items []dbus.ObjectPath
	if err := conn.Object(ssName, coll).CallWithContext(ctx, ssCollection+".SearchItems", 0,
		map[string]string{"service": o.service}).Store(&items); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(accounts))
	if len(items) == 0 || len(accounts) == 0 {
		return out, nil
	}
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := svc.CallWithContext(ctx, ssService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&ignored, &session); err != nil {
		return nil, err
	}
	defer conn.Object(ssName, session).CallWithContext(context.WithoutCancel(ctx), ssSession+".Close", 0)
	var secrets map[dbus.ObjectPath]ssSecret
	if err := svc.CallWithContext(ctx, ssService+".GetSecrets", 0, items, session).Store(&secrets); err != nil {
		return nil, err
	}
	// Which item is which account: derived from the secret when possible,
	// else read from the item's attributes (pipelined on the connection).
	if f := o.accountOf.Load(); f != nil {
		items = deriveAccounts(*f, items, secrets, wanted, out)
		if len(out) == len(wanted) {
			return out, nil
		}
	}
	if err := o.readAccounts(ctx, conn, items, secrets, wanted, out); err != nil {
		return nil, err
	}
	return out, nil
}

// unlockedCollection returns the collection go-keyring writes to ("login"
// if it exists, else the default alias), or an error when it is locked.
func unlockedCollection(ctx context.Context, svc dbus.BusObject) (dbus.ObjectPath, error) {
	coll := dbus.ObjectPath(ssDefault)
	if v, err := svc.GetProperty(ssService + ".Collections"); err == nil {
		if paths, ok := v.Value().([]dbus.ObjectPath); ok && slices.Contains(paths, ssLogin) {
			coll = ssLogin
		}
	}
	var unlocked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := svc.CallWithContext(ctx, ssService+".Unlock", 0, []dbus.ObjectPath{coll}).Store(&unlocked, &prompt); err != nil {
		return "", err
	}
	if prompt != "/" || len(unlocked) != 1 {
		return "", errors.New("the keyring is locked")
	}
	return coll, nil
}

// deriveAccounts puts into out the secrets of items whose account, as
// accountOf derives it from the secret, is wanted (the first item for an
// account wins), and returns the items it could not place.
func deriveAccounts(accountOf func(string) string, items []dbus.ObjectPath, secrets map[dbus.ObjectPath]ssSecret, wanted map[string]bool, out map[string]string) []dbus.ObjectPath {
	var unknown []dbus.ObjectPath
	for _, it := range items {
		s, ok := secrets[it]
		if !ok {
			continue
		}
		if a := accountOf(string(s.Value)); wanted[a] {
			if _, dup := out[a]; !dup {
				out[a] = string(s.Value)
				continue
			}
		}
		unknown = append(unknown, it)
	}
	return unknown
}

// readAccounts reads the attributes of items, bulkPipelined calls in
// flight at once, and puts into out the secrets of the items of o.service
// whose account is wanted.
func (o *OS) readAccounts(ctx context.Context, conn *dbus.Conn, items []dbus.ObjectPath, secrets map[dbus.ObjectPath]ssSecret, wanted map[string]bool, out map[string]string) error {
	type attrs struct {
		item dbus.ObjectPath
		call *dbus.Call
	}
	for start := 0; start < len(items); start += bulkPipelined {
		batch := items[start:min(start+bulkPipelined, len(items))]
		ch := make(chan *dbus.Call, len(batch))
		calls := make([]attrs, len(batch))
		for i, it := range batch {
			calls[i] = attrs{it, conn.Object(ssName, it).GoWithContext(ctx, dbusPropsGet, 0, ch, ssItem, "Attributes")}
		}
		for range batch {
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, c := range calls {
			var v dbus.Variant
			if err := c.call.Store(&v); err != nil {
				continue // the item vanished meanwhile
			}
			m, ok := v.Value().(map[string]string)
			if !ok || m["service"] != o.service {
				continue
			}
			if s, ok := secrets[c.item]; ok && wanted[m["username"]] {
				out[m["username"]] = string(s.Value)
			}
		}
	}
	return nil
}
