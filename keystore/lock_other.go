//go:build !unix

package keystore

import "errors"

// dirLock is not implemented on this platform.
type dirLock struct{}

// lockDir fails: without a lock two processes could corrupt the store.
func lockDir(dir string) (*dirLock, error) {
	return nil, errors.New("keystore: file locking is not supported on this platform")
}

func (l *dirLock) release() error { return nil }

func syncDir(dir string) error { return nil }
