//go:build unix

package keystore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// dirLock is an exclusive flock(2) on the keystore's lock file. It is tied
// to the open file description, so a second open in the same process
// conflicts too, and the kernel releases it when the process dies.
type dirLock struct {
	f *os.File
}

// lockDir takes the lock on dir without waiting.
func lockDir(dir string) (*dirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keystore: open lock file: %w", err)
	}
	fd := int(f.Fd())
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("keystore %s is %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("keystore: lock %s: %w", f.Name(), err)
	}
	return &dirLock{f: f}, nil
}

// release drops the lock. The lock file stays: removing it would let two
// processes hold locks on different inodes.
func (l *dirLock) release() error {
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
