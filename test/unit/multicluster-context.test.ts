/**
 * `multicluster` names each unusable --context in its own words. It recognises the failure by its type
 * (KubeconfigContextError from resolveContext), not by the wording of resolveContext's message, so
 * rewording that message cannot silently break the per-context rows.
 */
import { describe, expect, test } from 'vitest';
import { KubeconfigContextError, resolveContext, type Kubectl, type RunResult } from '../../src/collect/kubectl.js';
import { contextUnusable } from '../../src/collect/multicluster.js';
import { UnavailableError } from '../../src/model/errors.js';

function fakeKubectl(result: RunResult): Kubectl {
  return { flags: {}, run: async () => result } as unknown as Kubectl;
}

describe('an unusable context', () => {
  test('resolveContext throws KubeconfigContextError carrying kubectl\'s own reason; the single-context message is unchanged', async () => {
    const k = fakeKubectl({ exitCode: 1, stdout: '', stderr: 'W0105 08:00:00.000000 1 loader.go:222] ignored\nerror: context "nope" does not exist\n' });
    const e = await resolveContext(k).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(KubeconfigContextError);
    expect(e).toBeInstanceOf(UnavailableError);
    expect((e as KubeconfigContextError).detail).toBe('context "nope" does not exist');
    expect((e as Error).message).toBe('no usable kubeconfig context (context "nope" does not exist): check KUBECONFIG or --kubeconfig, or pick a context with --context');
  });

  test('multicluster rephrases it for the context the user named; other unavailability passes through', async () => {
    const k = fakeKubectl({ exitCode: 1, stdout: '', stderr: 'error: context "nope" does not exist\n' });
    const e = (await resolveContext(k).catch((x: unknown) => x)) as UnavailableError;
    expect(contextUnusable('nope', e)).toBe('context nope cannot be used (context "nope" does not exist): check kubectl config get-contexts and --kubeconfig');
    expect(contextUnusable('east', new UnavailableError('the kubeconfig has no current context'))).toBe('the kubeconfig has no current context');
  });
});
