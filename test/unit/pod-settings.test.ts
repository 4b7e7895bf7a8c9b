/**
 * What a live pod says about its sidecar: layout, capture settings and their sources, identity.
 * Pods come from the e2e builders, which shape them like the API server and Istio's injector do.
 */
import { describe, expect, test } from 'vitest';
import { ownerOf, podFacts } from '../../src/analyze/trace/pod-settings.js';
import type { Pod } from '../../src/model/cluster-view.js';
import { pod, workload, type KubeObject } from '../e2e/server/index.js';

const asPod = (o: KubeObject): Pod => o as unknown as Pod;

describe('ownerOf (Istio GetDeployMetaFromPod)', () => {
  test('a Deployment pod is named by its Deployment, not its ReplicaSet', () => {
    const w = workload({ name: 'checkout', namespace: 'shop', sidecar: true });
    expect(ownerOf(asPod(w.pods[0]!))).toBe('kubernetes://apis/apps/v1/namespaces/shop/deployments/checkout');
  });
  test('a ReplicaSet without the pod-template-hash suffix stays a ReplicaSet', () => {
    const p = asPod(pod({ name: 'x-1', namespace: 'a', sidecar: true }));
    const withRef: Pod = { ...p, metadata: { ...p.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'handmade', uid: 'u', controller: true }] } };
    expect(ownerOf(withRef)).toBe('kubernetes://apis/apps/v1/namespaces/a/replicasets/handmade');
  });
  test('a Job named <cronjob>-<8..10 digits> stands for its CronJob; other Jobs stay Jobs', () => {
    const p = asPod(pod({ name: 'nightly-29012345-abcde', namespace: 'ops' }));
    const job = (name: string): Pod => ({ ...p, metadata: { ...p.metadata, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: 'u', controller: true }] } });
    expect(ownerOf(job('nightly-29012345'))).toBe('kubernetes://apis/batch/v1/namespaces/ops/cronjobs/nightly');
    expect(ownerOf(job('migrate-42'))).toBe('kubernetes://apis/batch/v1/namespaces/ops/jobs/migrate-42');
  });
  test('only the controller reference counts; a bare pod has no owner', () => {
    const p = asPod(pod({ name: 'solo', namespace: 'a' }));
    expect(ownerOf(p)).toBeUndefined();
    const notController: Pod = { ...p, metadata: { ...p.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: false }] } };
    expect(ownerOf(notController)).toBeUndefined();
  });
});

describe('podFacts', () => {
  test('classic sidecar: capture settings come from istio-init arguments', () => {
    const f = podFacts(asPod(pod({ name: 'a-1', namespace: 'shop', sidecar: true })));
    expect(f.sidecar).toBe('container');
    expect(f.capture.sources?.includeIpRanges).toBe('istio-init args');
    expect(f.capture.includeIpRanges).toBe('*');
    expect(f.appContainer).toBe('app');
    expect(f.revision).toBe('default');
  });
  test('native sidecar with CNI: the injector annotations carry the settings, 15020 excluded by default', () => {
    const f = podFacts(asPod(pod({ name: 'a-1', namespace: 'shop', sidecar: { native: true, cni: true, annotations: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8' } } })));
    expect(f.sidecar).toBe('native');
    expect(f.cni).toBe(true);
    expect(f.capture.excludeIpRanges).toBe('10.0.0.0/8');
    expect(f.capture.sources?.excludeIpRanges).toBe('annotation');
    expect(f.capture.excludePorts).toBe('15020');
  });
  test('no sidecar: nothing is captured and no identity is invented', () => {
    const f = podFacts(asPod(pod({ name: 'plain', namespace: 'x' })));
    expect(f.sidecar).toBe('none');
    expect(f.owner).toBeUndefined();
  });
});
