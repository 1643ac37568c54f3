//go:build !unix

package keystore

import "errors"

// dirLock has no implementation off Unix: lockDir refuses instead.
type dirLock struct{}

// lockDir fails: without a lock two processes could corrupt the store.
func lockDir(dir string) (*dirLock, error) {
	return nil, errors.New("keystore: file locking is not supported on this platform")
}

func (l *dirLock) release() error { return nil }

func syncDir(dir string) error { return nil }
