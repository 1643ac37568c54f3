package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportGraph keeps the layering: library packages never reach up into
// the node, the transport, the chain client or the binary.
func TestImportGraph(t *testing.T) {
	const mod = "github.com/anya-org/anya/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string][]string{
		"did":       {"node", "p2p", "cmd", "chain"},
		"keystore":  {"node", "p2p", "cmd", "chain"},
		"dwn":       {"node", "p2p", "cmd"},
		"protocols": {"node", "p2p", "cmd", "chain"},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		top, _, _ := strings.Cut(pkg, "/")
		bans, ok := forbidden[top]
		if !ok {
			continue
		}
		checked++
		for _, dep := range fields[1:] {
			rel, ok := strings.CutPrefix(dep, mod)
			if !ok {
				continue
			}
			depTop, _, _ := strings.Cut(rel, "/")
			for _, ban := range bans {
				if depTop == ban {
					t.Errorf("%s imports %s (directly or not); %s must not depend on %s", pkg, rel, top, ban)
				}
			}
		}
	}
	if checked < 4 {
		t.Fatalf("checked only %d library packages; is go list seeing the module?", checked)
	}
}
