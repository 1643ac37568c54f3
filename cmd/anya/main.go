// Command anya is the Anya node: `anya daemon` runs it, and the other
// commands either talk to the running node's API or work offline on the
// data directory.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/anya-org/anya/node"
)

func main() {
	err := newRootCommand().Execute()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "anya:", err)
	var cfgErr *node.ConfigError
	var usage usageError
	if errors.As(err, &cfgErr) || errors.As(err, &usage) {
		os.Exit(2)
	}
	os.Exit(1)
}
