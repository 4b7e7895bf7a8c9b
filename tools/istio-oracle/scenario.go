// Package oracle generates, for each scenario under test/oracle/, the xDS configuration Istio's
// own config generator builds for one sidecar (written as an Envoy admin /config_dump), and the
// verdict of Istio's traffic simulator (pilot/pkg/simulation) for each call of the scenario.
//
// Nothing here re-implements Istio: the configuration and the expected answers come from the
// istio.io/istio module pinned in go.mod. This file only reads the scenario files and writes the
// fixtures.
package oracle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Scenario inputs (everything in the folder except the generated files).
const (
	ScenarioFile = "scenario.yaml"
	MeshFile     = "mesh.yaml"
	KubeFile     = "kube.yaml"
	IstioFile    = "istio.yaml"
	DumpFile     = "config_dump.json"
	ExpectedFile = "expected.json"
)

// InputFiles are hashed, in this order, to detect fixtures that are out of date.
var InputFiles = []string{IstioFile, KubeFile, MeshFile, ScenarioFile}

type Proxy struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	IP        string            `json:"ip"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Call is one connection the application opens. Fields mirror simulation.Call.
type Call struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`       // tcp | http | http2
	TLS      string `json:"tls,omitempty"`  // plaintext (default) | tls
	Sni      string `json:"sni,omitempty"`  // defaults to host for tls (simulator default)
	Alpn     string `json:"alpn,omitempty"` // defaults per protocol for tls (simulator default)
	Host     string `json:"host,omitempty"` // Host header
	Path     string `json:"path,omitempty"` // defaults to /
	// request headers besides Host (the simulator ignores them when matching routes)
	Headers map[string]string `json:"headers,omitempty"`
	Note    string            `json:"note,omitempty"`
}

type Scenario struct {
	Description string `json:"description"`
	Proxy       Proxy  `json:"proxy"`
	Calls       []Call `json:"calls"`
}

func LoadScenario(dir string) (*Scenario, error) {
	b, err := os.ReadFile(filepath.Join(dir, ScenarioFile))
	if err != nil {
		return nil, err
	}
	s := &Scenario{}
	if err := yaml.UnmarshalStrict(b, s); err != nil {
		return nil, fmt.Errorf("%s: %v", ScenarioFile, err)
	}
	if s.Proxy.Name == "" || s.Proxy.Namespace == "" {
		return nil, fmt.Errorf("%s: proxy.name and proxy.namespace are required", ScenarioFile)
	}
	if _, err := netip.ParseAddr(s.Proxy.IP); err != nil {
		return nil, fmt.Errorf("%s: proxy.ip: %v", ScenarioFile, err)
	}
	seen := map[string]bool{}
	for i, c := range s.Calls {
		if c.Name == "" || seen[c.Name] {
			return nil, fmt.Errorf("call %d: name missing or duplicated (%q)", i, c.Name)
		}
		seen[c.Name] = true
		if _, err := netip.ParseAddr(c.Address); err != nil {
			return nil, fmt.Errorf("call %s: address: %v (give the IP the application connects to)", c.Name, err)
		}
		if c.Port <= 0 || c.Port > 65535 {
			return nil, fmt.Errorf("call %s: port", c.Name)
		}
		switch c.Protocol {
		case "tcp", "http", "http2":
		default:
			return nil, fmt.Errorf("call %s: protocol must be tcp, http or http2", c.Name)
		}
		switch c.TLS {
		case "", "plaintext", "tls":
		default:
			return nil, fmt.Errorf("call %s: tls must be plaintext or tls (outbound applications do not send Istio mTLS)", c.Name)
		}
		if (c.TLS == "" || c.TLS == "plaintext") && (c.Alpn != "" || c.Sni != "") {
			return nil, fmt.Errorf("call %s: sni/alpn need tls: tls", c.Name)
		}
		if c.Protocol != "tcp" && (c.TLS == "" || c.TLS == "plaintext") && c.Host == "" {
			return nil, fmt.Errorf("call %s: HTTP calls need a host (the Host header)", c.Name)
		}
	}
	return s, nil
}

func readOptional(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		return "", nil
	}
	return string(b), err
}

// hashFiles: sha256 over "name\x00content\x00" for each file that exists, in the given order.
// The TypeScript test (test/oracle.test.ts) computes the same hash.
func hashFiles(dir string, names []string) (string, error) {
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// GeneratorFiles are the oracle's own sources: fixtures made by another version are stale too.
func GeneratorFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if n == "go.mod" || n == "go.sum" || (strings.HasSuffix(n, ".go")) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}
