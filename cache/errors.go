package cache

import "errors"

// Sentinel errors. Every error the cache returns wraps one of them (or a
// heap error, for memory the OS refused), so callers test with errors.Is.
var (
	// ErrNotFound is returned by Get and View for a key the cache does not
	// hold: never set, deleted, evicted or expired.
	ErrNotFound = errors.New("cache: key not found")
	// ErrTooLarge is returned by Set for a key longer than MaxKeyLen or a
	// value longer than the cache's MaxValueLen, and by Get, View and
	// Delete for a key longer than MaxKeyLen (which no Set can have stored).
	ErrTooLarge = errors.New("cache: key or value too large")
	// ErrClosed is returned by every method after Close, including a
	// second Close.
	ErrClosed = errors.New("cache: cache closed")
	// ErrNilCache is returned by every method called on a nil *Cache (one
	// whose New failed, say), instead of a nil-pointer panic.
	ErrNilCache = errors.New("cache: nil *Cache")
	// ErrInvalidOptions is returned by New for negative or inconsistent
	// Options.
	ErrInvalidOptions = errors.New("cache: invalid options")
)
