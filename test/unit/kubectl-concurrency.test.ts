/**
 * Many kubectl calls in flight at once (log-level and doctor across replicas) all listen on the
 * Kubectl's one cancel signal: Node must not print a MaxListenersExceededWarning to the user's
 * terminal for it, and dispose() must still stop every one of them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kubectl } from '../../src/collect/kubectl.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-kubectl-conc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const slow = path.join(tmp, 'kubectl');
fs.writeFileSync(slow, '#!/bin/sh\nexec sleep 5\n', { mode: 0o755 });

describe('Kubectl with many calls in flight', () => {
  it('warns nothing for 25 concurrent calls, and dispose stops them all well before they would end', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const k = new Kubectl({}, { binary: slow, env: { PATH: process.env.PATH ?? '' } });
      const calls = Array.from({ length: 25 }, (_, i) => k.run(['get', 'pods', `p${i}`], { step: `call ${i}` }).then((r) => (r.exitCode === 0 ? 'finished' : 'stopped'), () => 'threw'));
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      k.dispose();
      expect(await Promise.all(calls)).toEqual(Array(25).fill('stopped'));
      expect(Date.now() - t0).toBeLessThan(4000);
      // warnings are emitted on the next tick
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
