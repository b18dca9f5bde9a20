// Package private restricts the app's data directory and its secret files
// to the current user: mode 0700/0600 on Unix, and on Windows a protected
// DACL that grants only the current user and SYSTEM (the mode bits Go
// sets on Windows only toggle the read-only attribute, so "0600" there
// leaves a custom data directory readable by every user of the machine).
package private
