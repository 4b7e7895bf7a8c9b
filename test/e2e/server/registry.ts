/**
 * API resources and legacy discovery documents. kubectl asks for aggregated discovery first
 * (Accept: ...as=APIGroupDiscoveryList) and falls back to these per-group-version documents when the
 * server answers plain application/json, which is what a server without aggregated discovery does.
 */
import type { KubeObject, ResourceDef } from './types.js';
import { DEFAULT_TIMESTAMP, stableUid } from './builders.js';

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(group: string, versions: string[], kind: string, plural: string, namespaced: boolean, shortNames: string[] = [], extra: Partial<ResourceDef> = {}): ResourceDef {
  return { group, versions, kind, plural, singular: kind.toLowerCase(), namespaced, shortNames, verbs: RW, ...extra };
}

export const BUILTIN_RESOURCES: ResourceDef[] = [
  r('', ['v1'], 'Pod', 'pods', true, ['po'], {
    categories: ['all'],
    subresources: [
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'eviction', kind: 'Eviction', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
  }),
  r('', ['v1'], 'Service', 'services', true, ['svc'], { categories: ['all'], subresources: [{ name: 'status', kind: 'Service', verbs: ['get', 'patch', 'update'] }] }),
  r('', ['v1'], 'Endpoints', 'endpoints', true, ['ep']),
  r('', ['v1'], 'ConfigMap', 'configmaps', true, ['cm']),
  r('', ['v1'], 'Secret', 'secrets', true),
  r('', ['v1'], 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  r('', ['v1'], 'Event', 'events', true, ['ev']),
  r('', ['v1'], 'Namespace', 'namespaces', false, ['ns'], { verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }, { name: 'status', kind: 'Namespace', verbs: ['get', 'patch', 'update'] }] }),
  r('', ['v1'], 'Node', 'nodes', false, ['no']),
  r('', ['v1'], 'PersistentVolumeClaim', 'persistentvolumeclaims', true, ['pvc']),
  r('apps', ['v1'], 'Deployment', 'deployments', true, ['deploy'], { categories: ['all'], subresources: [{ name: 'scale', kind: 'Scale', verbs: ['get', 'patch', 'update'] }, { name: 'status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] }] }),
  r('apps', ['v1'], 'ReplicaSet', 'replicasets', true, ['rs'], { categories: ['all'] }),
  r('apps', ['v1'], 'StatefulSet', 'statefulsets', true, ['sts'], { categories: ['all'] }),
  r('apps', ['v1'], 'DaemonSet', 'daemonsets', true, ['ds'], { categories: ['all'] }),
  r('discovery.k8s.io', ['v1'], 'EndpointSlice', 'endpointslices', true),
  r('networking.k8s.io', ['v1'], 'NetworkPolicy', 'networkpolicies', true, ['netpol']),
  r('apiextensions.k8s.io', ['v1'], 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds'], { categories: ['api-extensions'] }),
  r('authorization.k8s.io', ['v1'], 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, [], { verbs: ['create'] }),
];

const NET = ['v1', 'v1beta1', 'v1alpha3'];
const SEC = ['v1', 'v1beta1'];
const istioCat = (c: string): Partial<ResourceDef> => ({ categories: ['istio-io', c] });

export const ISTIO_RESOURCES: ResourceDef[] = [
  r('networking.istio.io', NET, 'ServiceEntry', 'serviceentries', true, ['se'], istioCat('networking-istio-io')),
  r('networking.istio.io', NET, 'VirtualService', 'virtualservices', true, ['vs'], istioCat('networking-istio-io')),
  r('networking.istio.io', NET, 'DestinationRule', 'destinationrules', true, ['dr'], istioCat('networking-istio-io')),
  r('networking.istio.io', NET, 'Gateway', 'gateways', true, ['gw'], istioCat('networking-istio-io')),
  r('networking.istio.io', NET, 'Sidecar', 'sidecars', true, [], istioCat('networking-istio-io')),
  r('networking.istio.io', NET, 'WorkloadEntry', 'workloadentries', true, ['we'], istioCat('networking-istio-io')),
  r('networking.istio.io', NET, 'WorkloadGroup', 'workloadgroups', true, ['wg'], istioCat('networking-istio-io')),
  r('networking.istio.io', ['v1alpha3'], 'EnvoyFilter', 'envoyfilters', true, [], istioCat('networking-istio-io')),
  r('security.istio.io', SEC, 'AuthorizationPolicy', 'authorizationpolicies', true, ['ap'], istioCat('security-istio-io')),
  r('security.istio.io', SEC, 'PeerAuthentication', 'peerauthentications', true, ['pa'], istioCat('security-istio-io')),
  r('security.istio.io', SEC, 'RequestAuthentication', 'requestauthentications', true, ['ra'], istioCat('security-istio-io')),
  r('telemetry.istio.io', ['v1', 'v1alpha1'], 'Telemetry', 'telemetries', true, ['telemetry'], istioCat('telemetry-istio-io')),
];

const BUILTIN_GROUPS = new Set(BUILTIN_RESOURCES.map((d) => d.group));

/** Kubernetes version priority (v1 > v1beta2 > v1beta1 > v1alpha1 ...), as discovery orders versions. */
export function versionPriority(v: string): number {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return -1;
  const major = Number(m[1]);
  const stage = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
  return major * 10000 + stage * 1000 + Number(m[3] ?? 0);
}

/** The resource table of one cluster. */
export class Registry {
  readonly defs: ResourceDef[] = [];

  add(def: ResourceDef): void {
    const existing = this.defs.find((d) => d.group === def.group && d.plural === def.plural);
    if (existing) {
      for (const v of def.versions) if (!existing.versions.includes(v)) existing.versions.push(v);
      return;
    }
    this.defs.push({ ...def, versions: [...def.versions] });
  }

  /** Registers the kind of an object that was loaded without a matching resource (a CRD nobody declared). */
  addForObject(o: KubeObject): ResourceDef {
    const [group, version] = splitApiVersion(o.apiVersion);
    const byKind = this.defs.find((d) => d.group === group && d.kind === o.kind);
    if (byKind) {
      if (!byKind.versions.includes(version)) byKind.versions.push(version);
      return byKind;
    }
    const lower = o.kind.toLowerCase();
    const plural = /(s|x|z|ch|sh)$/.test(lower) ? `${lower}es` : /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s`;
    const def = r(group, [version], o.kind, plural, o.metadata.namespace !== undefined);
    this.defs.push(def);
    return def;
  }

  find(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.defs.find((d) => d.group === group && d.plural === plural && d.versions.includes(version));
  }

  byKind(group: string, kind: string): ResourceDef | undefined {
    return this.defs.find((d) => d.group === group && d.kind === kind);
  }

  groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, Set<string>>();
    for (const d of this.defs) {
      if (d.group === '') continue;
      const s = out.get(d.group) ?? new Set<string>();
      for (const v of d.versions) s.add(v);
      out.set(d.group, s);
    }
    return [...out].map(([name, vs]) => ({ name, versions: [...vs].sort((a, b) => versionPriority(b) - versionPriority(a)) }));
  }

  apiVersions(serverAddress: string): unknown {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }

  apiGroup(name: string): unknown {
    const g = this.groups().find((x) => x.name === name);
    if (!g) return undefined;
    const versions = g.versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { kind: 'APIGroup', apiVersion: 'v1', name, versions, preferredVersion: versions[0] };
  }

  apiGroupList(): unknown {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.groups().map((g) => {
        const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
        return { name: g.name, versions, preferredVersion: versions[0] };
      }),
    };
  }

  /** APIResourceList for one group version, or undefined when nothing is served there (→ 404). */
  resourceList(group: string, version: string): unknown {
    const defs = this.defs.filter((d) => d.group === group && d.versions.includes(version));
    if (defs.length === 0) return undefined;
    const resources: unknown[] = [];
    for (const d of defs) {
      resources.push({
        name: d.plural,
        singularName: d.singular ?? d.kind.toLowerCase(),
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: d.verbs ?? RW,
        ...(d.shortNames?.length ? { shortNames: d.shortNames } : {}),
        ...(d.categories?.length ? { categories: d.categories } : {}),
        storageVersionHash: Buffer.from(`${d.group}/${d.plural}`).toString('base64').slice(0, 11),
      });
      for (const s of d.subresources ?? []) resources.push({ name: `${d.plural}/${s.name}`, singularName: '', namespaced: d.namespaced, kind: s.kind, verbs: s.verbs });
    }
    const gv = group === '' ? version : `${group}/${version}`;
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
  }

  /** CustomResourceDefinition objects for every non-built-in resource, as `kubectl get crd` lists them. */
  crds(): KubeObject[] {
    return this.defs
      .filter((d) => !BUILTIN_GROUPS.has(d.group))
      .map((d) => {
        const name = `${d.plural}.${d.group}`;
        const versions = [...d.versions].sort((a, b) => versionPriority(b) - versionPriority(a));
        return {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name, uid: stableUid('CustomResourceDefinition', '', name), resourceVersion: '1', creationTimestamp: DEFAULT_TIMESTAMP, generation: 1, labels: (d.group.endsWith('.istio.io') ? { app: 'istio-pilot', chart: 'istio', heritage: 'Tiller', release: 'istio' } : {}) as Record<string, string> },
          spec: {
            group: d.group,
            names: { plural: d.plural, singular: d.singular ?? d.kind.toLowerCase(), kind: d.kind, listKind: `${d.kind}List`, ...(d.shortNames?.length ? { shortNames: d.shortNames } : {}), ...(d.categories?.length ? { categories: d.categories } : {}) },
            scope: d.namespaced ? 'Namespaced' : 'Cluster',
            versions: versions.map((v, i) => ({ name: v, served: true, storage: i === 0, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }, subresources: { status: {} } })),
            conversion: { strategy: 'None' },
          },
          status: { acceptedNames: { plural: d.plural, kind: d.kind }, storedVersions: [versions[0] ?? 'v1'], conditions: [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: DEFAULT_TIMESTAMP }] },
        };
      });
  }
}

export function splitApiVersion(apiVersion: string): [group: string, version: string] {
  const i = apiVersion.indexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

/** GroupResource.String(): `pods`, `serviceentries.networking.istio.io`. */
export function qualified(def: { group: string; plural: string }): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}
