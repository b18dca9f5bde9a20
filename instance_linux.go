//go:build desktop && linux

package main

import (
	"encoding/json"
	"os"
	"strings"

	"github.com/godbus/dbus/v5"
)

// handOver shows the window of an instance that is already running and
// reports true, so that this launch can exit before it opens the database
// or the port. It speaks the D-Bus interface of Wails' single-instance
// lock (which Wails itself only checks after the app has started).
func handOver() bool {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return false
	}
	defer conn.Close()
	if conn.Auth(nil) != nil || conn.Hello() != nil {
		return false
	}
	id := "wails_app_" + strings.NewReplacer("-", "_", ".", "_").Replace(instanceID)
	name, path := "org."+id+".SingleInstance", dbus.ObjectPath("/org/"+id+"/SingleInstance")
	var owned bool
	if conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned) != nil || !owned {
		return false
	}
	wd, _ := os.Getwd()
	msg, _ := json.Marshal(map[string]any{"Args": os.Args[1:], "WorkingDirectory": wd})
	return conn.Object(name, path).Call(name+".SendMessage", 0, string(msg)).Err == nil
}
