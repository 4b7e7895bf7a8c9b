package oracle

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	istiolog "istio.io/istio/pkg/log"
)

var (
	scenariosDir = flag.String("scenarios", "../../test/oracle", "folder holding one folder per scenario")
	only         = flag.String("only", "", "regenerate this scenario only (folder name)")
)

// TestGenerate is the generator's entry point (the simulator needs a *testing.T):
//
//	go test -run TestGenerate -count=1 . -args -scenarios ../../test/oracle
//
// See regenerate.sh.
func TestGenerate(t *testing.T) {
	if os.Getenv("ISTIO_ORACLE_GENERATE") != "1" {
		t.Skip("set ISTIO_ORACLE_GENERATE=1 (regenerate.sh does) to write fixtures")
	}
	for _, s := range istiolog.Scopes() {
		s.SetOutputLevel(istiolog.NoneLevel)
	}
	if err := CheckModuleVersion("go.mod"); err != nil {
		t.Fatal(err)
	}
	genFiles, err := GeneratorFiles(".")
	if err != nil {
		t.Fatal(err)
	}
	genHash, err := hashFiles(".", genFiles)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := ScenarioDirs(*scenariosDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatalf("no scenarios under %s", *scenariosDir)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if *only != "" && name != *only {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if err := Generate(t, dir, genHash); err != nil {
				t.Fatal(err)
			}
		})
	}
}
