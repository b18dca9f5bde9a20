// Package traytest provides a stand-in tray host for tests and benchmarks:
// the part of org.kde.StatusNotifierWatcher that desktop tray hosts
// provide. Nothing in Debian provides a reliable watcher under Xvfb, and
// with none on the bus the app has no tray (closing its window quits).
package traytest

import (
	"fmt"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

const (
	watcherName = "org.kde.StatusNotifierWatcher"
	watcherPath = "/StatusNotifierWatcher"
)

// Registration is an item that registered with the watcher.
type Registration struct{ Sender, Path string }

// Watcher is a fake org.kde.StatusNotifierWatcher on a session bus.
type Watcher struct {
	conn  *dbus.Conn
	props *prop.Properties
	// Registered receives every registration (buffered; extra ones are dropped).
	Registered chan Registration
}

// RegisterStatusNotifierItem is called by a tray icon over D-Bus.
func (w *Watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	item := string(sender) + service
	w.props.SetMust(watcherName, "RegisteredStatusNotifierItems", []string{item})
	_ = w.conn.Emit(watcherPath, watcherName+".StatusNotifierItemRegistered", item)
	select {
	case w.Registered <- Registration{Sender: string(sender), Path: service}:
	default:
	}
	return nil
}

// RegisterStatusNotifierHost is called by tray hosts; accepted and ignored.
func (w *Watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// StartWatcher connects to the bus at addr (a D-Bus address, e.g.
// $DBUS_SESSION_BUS_ADDRESS) and owns the watcher's name until Close.
func StartWatcher(addr string) (*Watcher, error) {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("watcher: connect: %w", err)
	}
	w := &Watcher{conn: conn, Registered: make(chan Registration, 16)}
	if err := conn.Export(w, watcherPath, watcherName); err != nil {
		conn.Close()
		return nil, fmt.Errorf("watcher: export: %w", err)
	}
	w.props, err = prop.Export(conn, watcherPath, map[string]map[string]*prop.Prop{
		watcherName: {
			"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
			"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
			"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("watcher: properties: %w", err)
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("watcher: RequestName(%s) = %v, %v, want primary owner", watcherName, reply, err)
	}
	return w, nil
}

// Conn is the watcher's bus connection.
func (w *Watcher) Conn() *dbus.Conn { return w.conn }

// Close releases the name and the connection.
func (w *Watcher) Close() error { return w.conn.Close() }
