// Package pgtest gives tests a PostgreSQL database of their own.
//
// ANYA_TEST_POSTGRES is the DSN of a server whose role may create databases
// (scripts/postgres.sh start prints one). Without it a test skips, or fails
// when ANYA_REQUIRE_POSTGRES=1, as `make test` sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// AdminDSN returns ANYA_TEST_POSTGRES, or skips (fails when required).
func AdminDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ANYA_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("ANYA_REQUIRE_POSTGRES") == "1" {
			t.Fatal("ANYA_REQUIRE_POSTGRES=1 but ANYA_TEST_POSTGRES is not set (start one with scripts/postgres.sh start DIR)")
		}
		t.Skip("ANYA_TEST_POSTGRES is not set")
	}
	return dsn
}

// FreshDatabase creates an empty database, dropped when the test ends, and
// returns its DSN.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminDSN(t)
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	name := "anya_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to ANYA_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return admin + " dbname=" + name
}
