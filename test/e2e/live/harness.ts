/**
 * The per-file set-up of a live e2e suite: the kubectl versions it runs with, a temporary directory
 * for the files a test writes (removed after the file's tests), and the test servers it starts
 * (each stopped after the test that started it).
 */
import { afterEach } from 'vitest';
import { tempDir } from '../../helpers/temp-dir.js';
import { kubectlVersions, type TestServer } from '../server/index.js';

/** kubectl 1.27 (SPDY) and the newest installed (websocket). */
export const OLDEST_KUBECTL = '1.27';
export const NEWEST_KUBECTL = kubectlVersions().at(-1) ?? '1.33';

export interface LiveSuite {
  /** servers to stop after the current test: push each one started */
  readonly servers: TestServer[];
  /** the temporary directory (from beforeAll on) */
  readonly dir: string;
}

/** Registers the hooks where it is called; `prefix` names the temporary directory. */
export function liveSuite(prefix: string): LiveSuite {
  const servers: TestServer[] = [];
  const tmp = tempDir(prefix);
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  return {
    servers,
    get dir(): string {
      return tmp.path;
    },
  };
}
