package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/mesh"
	_ "istio.io/istio/pkg/config/xds" // registers every Envoy extension type, for Any → JSON
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/wellknown"
)

// IstioRelease is the release tag whose commit go.mod pins (tags have no "v", so go.mod holds
// the pseudo-version of that commit; see README.md).
const (
	IstioRelease       = "1.29.1"
	IstioModuleVersion = "v0.0.0-20260306174214-6991a379e1fc"
)

// fixed so that fixtures are byte-for-byte reproducible
var lastUpdated = timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))

const versionInfo = "istio-oracle"

// Result is what the simulator reports for one call (simulation.Result), with Error as text.
type Result struct {
	Error       string `json:"error"`
	Listener    string `json:"listener"`
	FilterChain string `json:"filterChain"`
	RouteConfig string `json:"routeConfig"`
	// the HCM of the matched chain carries an inline route_config: the simulator does not name it
	RouteConfigInline bool   `json:"routeConfigInline,omitempty"`
	VirtualHost       string `json:"virtualHost"`
	Route             string `json:"route"`
	Cluster           string `json:"cluster"`
}

// EffectiveCall is the call after simulation.Call.FillDefaults: exactly what was simulated.
type EffectiveCall struct {
	Address  string            `json:"address"`
	Port     int               `json:"port"`
	Protocol string            `json:"protocol"`
	TLS      string            `json:"tls"`
	Sni      string            `json:"sni"`
	Alpn     string            `json:"alpn"`
	Host     string            `json:"host"`
	Path     string            `json:"path"`
	Headers  map[string]string `json:"headers,omitempty"`
	Mode     string            `json:"mode"`
}

type CallResult struct {
	Name   string        `json:"name"`
	Note   string        `json:"note,omitempty"`
	Call   EffectiveCall `json:"call"`
	Result Result        `json:"result"`
}

type Expected struct {
	Comment            string       `json:"comment"`
	IstioRelease       string       `json:"istioRelease"`
	IstioModuleVersion string       `json:"istioModuleVersion"`
	InputsHash         string       `json:"inputsHash"`
	GeneratorHash      string       `json:"generatorHash"`
	Description        string       `json:"description"`
	Proxy              Proxy        `json:"proxy"`
	Calls              []CallResult `json:"calls"`
}

// CheckModuleVersion fails unless go.mod pins the Istio module this generator was written for,
// without replace directives. (Test binaries carry no dependency build info, so go.mod is read.)
func CheckModuleVersion(goMod string) error {
	b, err := os.ReadFile(goMod)
	if err != nil {
		return err
	}
	found := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 1 && (f[0] == "replace" || f[0] == "replace(") {
			return fmt.Errorf("%s has a replace directive: not allowed", goMod)
		}
		if len(f) >= 2 && f[0] == "istio.io/istio" {
			found = f[1]
		}
	}
	if found != IstioModuleVersion {
		return fmt.Errorf("%s requires istio.io/istio %q, but IstioModuleVersion is %q: update generate.go", goMod, found, IstioModuleVersion)
	}
	return nil
}

// Generate writes config_dump.json and expected.json for one scenario folder.
func Generate(t *testing.T, dir string, generatorHash string) error {
	sc, err := LoadScenario(dir)
	if err != nil {
		return err
	}
	meshYAML, err := readOptional(dir, MeshFile)
	if err != nil {
		return err
	}
	kubeYAML, err := readOptional(dir, KubeFile)
	if err != nil {
		return err
	}
	istioYAML, err := readOptional(dir, IstioFile)
	if err != nil {
		return err
	}
	m := mesh.DefaultMeshConfig()
	if strings.TrimSpace(meshYAML) != "" {
		if m, err = mesh.ApplyMeshConfigDefaults(meshYAML); err != nil {
			return fmt.Errorf("%s: %v", MeshFile, err)
		}
	}
	kubeObjects, err := kubeObjectsWithEndpointSlices(kubeYAML)
	if err != nil {
		return fmt.Errorf("%s: %v", KubeFile, err)
	}

	configs, err := istioConfigs(istioYAML)
	if err != nil {
		return fmt.Errorf("%s: %v", IstioFile, err)
	}
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		Configs:           configs,
		KubernetesObjects: kubeObjects,
		MeshConfig:        m,
	})
	p := s.SetupProxy(&model.Proxy{
		ID:              sc.Proxy.Name + "." + sc.Proxy.Namespace,
		ConfigNamespace: sc.Proxy.Namespace,
		IPAddresses:     []string{sc.Proxy.IP},
		Labels:          sc.Proxy.Labels,
		Metadata: &model.NodeMetadata{
			Namespace:    sc.Proxy.Namespace,
			Labels:       sc.Proxy.Labels,
			IstioVersion: IstioRelease,
			InstanceIPs:  []string{sc.Proxy.IP},
		},
	})
	// the same constructor Istio's own simulation tests use (sidecar_simulation_test.go)
	sim := simulation.NewSimulationFromConfigGen(t, s.ConfigGenTest, p)
	listeners, clusters := sim.Listeners, sim.Clusters
	// ConfigGenTest.RoutesFromListeners asks for every RDS name once per listener that uses it
	// (per-pod listeners of a headless Service share one), and Istio answers the repeated names
	// with empty route configurations of the same name. Envoy subscribes to each name once, so
	// build each once, in first-use order.
	routes := uniqueRoutes(s, p, listeners)
	endpoints := s.Endpoints(p)
	// Istio's listener order varies from run to run (map iteration); the dump lists every
	// resource kind sorted by name so that fixtures are reproducible. Order within a resource
	// (filter chains, virtual hosts, routes) is Istio's and is kept.
	sort.SliceStable(listeners, func(i, j int) bool { return listeners[i].Name < listeners[j].Name })
	sort.SliceStable(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	sort.SliceStable(routes, func(i, j int) bool { return routes[i].Name < routes[j].Name })
	sort.SliceStable(endpoints, func(i, j int) bool { return endpoints[i].ClusterName < endpoints[j].ClusterName })
	sim.Listeners, sim.Clusters, sim.Routes = listeners, clusters, routes

	dump, err := configDump(sc, listeners, clusters, routes, endpoints)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, DumpFile), dump, 0o644); err != nil {
		return err
	}

	// The simulator reports chain, virtual host and route names. Istio leaves many of them
	// unnamed; the simulator runs on copies where the unnamed ones carry the label
	// kubectl mesh-egress uses for them ("#<index>", "default_filter_chain"). The dump keeps
	// the originals.
	sim.Listeners = labelListeners(listeners)
	sim.Routes = labelRoutes(routes)

	exp := Expected{
		Comment:            "GENERATED by tools/istio-oracle (npm run oracle): do not edit",
		IstioRelease:       IstioRelease,
		IstioModuleVersion: IstioModuleVersion,
		GeneratorHash:      generatorHash,
		Description:        sc.Description,
		Proxy:              sc.Proxy,
	}
	if exp.InputsHash, err = hashFiles(dir, InputFiles); err != nil {
		return err
	}
	for _, c := range sc.Calls {
		call := simulation.Call{
			Address:    c.Address,
			Port:       c.Port,
			Path:       c.Path,
			Protocol:   simulation.Protocol(c.Protocol),
			TLS:        simulation.TLSMode(c.TLS),
			Alpn:       c.Alpn,
			HostHeader: c.Host,
			Sni:        c.Sni,
			CallMode:   simulation.CallModeOutbound,
		}
		if len(c.Headers) > 0 {
			call.Headers = http.Header{}
			for k, v := range c.Headers {
				call.Headers.Set(k, v)
			}
		}
		filled := call.FillDefaults()
		var r simulation.Result
		t.Run(c.Name, func(t *testing.T) {
			r = sim.Run(call)
		})
		res := Result{
			Listener:    r.ListenerMatched,
			FilterChain: r.FilterChainMatched,
			RouteConfig: r.RouteConfigMatched,
			VirtualHost: r.VirtualHostMatched,
			Route:       r.RouteMatched,
			Cluster:     r.ClusterMatched,
		}
		if r.Error != nil {
			res.Error = r.Error.Error()
		}
		if r.FilterChainMatched != "" && r.RouteConfigMatched == "" && hasInlineRoute(sim.Listeners, r.ListenerMatched, r.FilterChainMatched) {
			res.RouteConfigInline = true
		}
		exp.Calls = append(exp.Calls, CallResult{
			Name: c.Name,
			Note: c.Note,
			Call: EffectiveCall{
				Address:  filled.Address,
				Port:     filled.Port,
				Protocol: string(filled.Protocol),
				TLS:      string(filled.TLS),
				Sni:      filled.Sni,
				Alpn:     filled.Alpn,
				Host:     c.Host,
				Path:     filled.Path,
				Headers:  c.Headers,
				Mode:     string(simulation.CallModeOutbound),
			},
			Result: res,
		})
	}
	out, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ExpectedFile), append(out, '\n'), 0o644)
}

// istioConfigs parses istio.yaml as Istio's CRD client would present it: namespace "default"
// when unset, Domain "cluster.local" (short hosts in VirtualServices and DestinationRules resolve
// to <name>.<namespace>.svc.cluster.local, as in a cluster), one fixed creation time.
func istioConfigs(text string) ([]config.Config, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	cfgs, _, err := crd.ParseInputs(text)
	if err != nil {
		return nil, err
	}
	for i := range cfgs {
		if cfgs[i].Namespace == "" {
			cfgs[i].Namespace = "default"
		}
		cfgs[i].Domain = "cluster.local"
		cfgs[i].CreationTimestamp = lastUpdated.AsTime()
	}
	return cfgs, nil
}

// ---- kube objects -------------------------------------------------------------------------

// kubeObjectsWithEndpointSlices decodes kube.yaml and adds, for each Service with a selector
// and no EndpointSlice of its own, the EndpointSlice the Kubernetes endpointslice controller
// would write from the Pods in the file (ready pods with status.podIP).
func kubeObjectsWithEndpointSlices(text string) ([]runtime.Object, error) {
	var objs []runtime.Object
	decode := kubelib.IstioCodec.UniversalDeserializer().Decode
	for _, doc := range strings.Split(text, "\n---\n") {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		o, _, err := decode([]byte(doc), nil, nil)
		if err != nil {
			return nil, fmt.Errorf("decoding %q: %v", firstLine(doc), err)
		}
		objs = append(objs, o)
	}
	var pods []*corev1.Pod
	hasSlice := map[string]bool{}
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Pod:
			pods = append(pods, v)
		case *discoveryv1.EndpointSlice:
			hasSlice[v.Namespace+"/"+v.Labels[discoveryv1.LabelServiceName]] = true
		}
	}
	var extra []runtime.Object
	for _, o := range objs {
		svc, ok := o.(*corev1.Service)
		if !ok || len(svc.Spec.Selector) == 0 || hasSlice[ns(svc.Namespace)+"/"+svc.Name] {
			continue
		}
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		slice := &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{
				Name:      svc.Name + "-oracle",
				Namespace: ns(svc.Namespace),
				Labels:    map[string]string{discoveryv1.LabelServiceName: svc.Name},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		var ports []discoveryv1.EndpointPort
		for _, sp := range svc.Spec.Ports {
			sp := sp
			port := targetPort(sp, pods, svc)
			name := sp.Name
			proto := sp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			ports = append(ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto, AppProtocol: sp.AppProtocol})
		}
		slice.Ports = ports
		for _, pod := range pods {
			if ns(pod.Namespace) != ns(svc.Namespace) || !sel.Matches(labels.Set(pod.Labels)) || pod.Status.PodIP == "" {
				continue
			}
			ready := true
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{pod.Status.PodIP},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready},
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod.Name, Namespace: ns(pod.Namespace)},
			})
		}
		extra = append(extra, slice)
	}
	return append(objs, extra...), nil
}

func ns(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func targetPort(sp corev1.ServicePort, pods []*corev1.Pod, svc *corev1.Service) int32 {
	switch sp.TargetPort.Type {
	case intstr.Int:
		if sp.TargetPort.IntVal != 0 {
			return sp.TargetPort.IntVal
		}
	case intstr.String:
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, pod := range pods {
			if !sel.Matches(labels.Set(pod.Labels)) {
				continue
			}
			for _, c := range pod.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == sp.TargetPort.StrVal {
						return cp.ContainerPort
					}
				}
			}
		}
	}
	return sp.Port
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func uniqueRoutes(s *xds.FakeDiscoveryServer, p *model.Proxy, listeners []*listenerv3.Listener) []*routev3.RouteConfiguration {
	var names []string
	seen := map[string]bool{}
	for _, n := range core.ExtractRoutesFromListeners(listeners) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	resources, _ := s.ConfigGen.BuildHTTPRoutes(p, &model.PushRequest{Push: s.PushContext()}, names)
	out := make([]*routev3.RouteConfiguration, 0, len(resources))
	for _, r := range resources {
		rc := &routev3.RouteConfiguration{}
		if err := r.Resource.UnmarshalTo(rc); err == nil {
			out = append(out, rc)
		}
	}
	return out
}

// ---- labels for unnamed chains, virtual hosts and routes ----------------------------------

func labelListeners(in []*listenerv3.Listener) []*listenerv3.Listener {
	out := make([]*listenerv3.Listener, 0, len(in))
	for _, l := range in {
		l = proto.Clone(l).(*listenerv3.Listener)
		for i, fc := range l.FilterChains {
			if fc.Name == "" {
				fc.Name = fmt.Sprintf("#%d", i)
			}
			labelInlineRoutes(fc)
		}
		if dc := l.DefaultFilterChain; dc != nil {
			if dc.Name == "" {
				dc.Name = "default_filter_chain"
			}
			labelInlineRoutes(dc)
		}
		out = append(out, l)
	}
	return out
}

func labelInlineRoutes(fc *listenerv3.FilterChain) {
	for _, f := range fc.Filters {
		if f.Name != wellknown.HTTPConnectionManager || f.GetTypedConfig() == nil {
			continue
		}
		h := &hcmv3.HttpConnectionManager{}
		if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
			continue
		}
		if rc := h.GetRouteConfig(); rc != nil {
			labelRouteConfig(rc)
			a, err := anypb.New(h)
			if err == nil {
				f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
			}
		}
	}
}

func labelRoutes(in []*routev3.RouteConfiguration) []*routev3.RouteConfiguration {
	out := make([]*routev3.RouteConfiguration, 0, len(in))
	for _, rc := range in {
		rc = proto.Clone(rc).(*routev3.RouteConfiguration)
		labelRouteConfig(rc)
		out = append(out, rc)
	}
	return out
}

func labelRouteConfig(rc *routev3.RouteConfiguration) {
	for i, vh := range rc.VirtualHosts {
		if vh.Name == "" {
			vh.Name = fmt.Sprintf("#%d", i)
		}
		for j, r := range vh.Routes {
			if r.Name == "" {
				r.Name = fmt.Sprintf("#%d", j)
			}
		}
	}
}

func hasInlineRoute(ls []*listenerv3.Listener, listener, chain string) bool {
	for _, l := range ls {
		if l.Name != listener {
			continue
		}
		chains := append([]*listenerv3.FilterChain{}, l.FilterChains...)
		if l.DefaultFilterChain != nil {
			chains = append(chains, l.DefaultFilterChain)
		}
		for _, fc := range chains {
			if fc.Name != chain {
				continue
			}
			for _, f := range fc.Filters {
				if f.Name != wellknown.HTTPConnectionManager {
					continue
				}
				h := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(h) == nil && h.GetRouteConfig() != nil {
					return true
				}
			}
		}
	}
	return false
}

// ---- the admin /config_dump ----------------------------------------------------------------

func configDump(sc *Scenario, listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster,
	routes []*routev3.RouteConfiguration, endpoints []*endpointv3.ClusterLoadAssignment,
) ([]byte, error) {
	ns := sc.Proxy.Namespace
	meta := map[string]any{
		"NAMESPACE":     ns,
		"NAME":          sc.Proxy.Name,
		"INSTANCE_IPS":  sc.Proxy.IP,
		"ISTIO_VERSION": IstioRelease,
		"CLUSTER_ID":    "Kubernetes",
		"MESH_ID":       "cluster.local",
	}
	if len(sc.Proxy.Labels) > 0 {
		l := map[string]any{}
		for k, v := range sc.Proxy.Labels {
			l[k] = v
		}
		meta["LABELS"] = l
	}
	md, err := structpb.NewStruct(meta)
	if err != nil {
		return nil, err
	}
	boot := &adminv3.BootstrapConfigDump{
		Bootstrap: &bootstrapv3.Bootstrap{
			Node: &corev3.Node{
				Id:       fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", sc.Proxy.IP, sc.Proxy.Name, ns, ns),
				Cluster:  sc.Proxy.Name + "." + ns,
				Metadata: md,
			},
		},
		LastUpdated: lastUpdated,
	}

	cd := &adminv3.ClustersConfigDump{VersionInfo: versionInfo}
	for _, c := range clusters {
		a, err := anypb.New(c)
		if err != nil {
			return nil, err
		}
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{
			VersionInfo: versionInfo, Cluster: a, LastUpdated: lastUpdated,
		})
	}
	ld := &adminv3.ListenersConfigDump{VersionInfo: versionInfo}
	for _, l := range listeners {
		a, err := anypb.New(l)
		if err != nil {
			return nil, err
		}
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: l.Name,
			ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{
				VersionInfo: versionInfo, Listener: a, LastUpdated: lastUpdated,
			},
		})
	}
	rd := &adminv3.RoutesConfigDump{}
	for _, r := range routes {
		a, err := anypb.New(r)
		if err != nil {
			return nil, err
		}
		rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{
			VersionInfo: versionInfo, RouteConfig: a, LastUpdated: lastUpdated,
		})
	}
	ed := &adminv3.EndpointsConfigDump{}
	for _, e := range endpoints {
		a, err := anypb.New(e)
		if err != nil {
			return nil, err
		}
		ed.DynamicEndpointConfigs = append(ed.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{
			VersionInfo: versionInfo, EndpointConfig: a, LastUpdated: lastUpdated,
		})
	}
	// the order Envoy's admin handler uses, endpoints last (include_eds)
	dump := &adminv3.ConfigDump{}
	for _, msg := range []proto.Message{boot, cd, ld, rd, ed} {
		a, err := anypb.New(msg)
		if err != nil {
			return nil, err
		}
		dump.Configs = append(dump.Configs, a)
	}
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(dump)
	if err != nil {
		return nil, err
	}
	// protojson output is deliberately unstable; re-encode for reproducible fixtures
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sorted scenario folders
func ScenarioDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), ScenarioFile)); err == nil {
			out = append(out, filepath.Join(root, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}
