/**
 * A temporary directory for one test file (or describe block): created in beforeAll, removed with
 * everything in it in afterAll.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface TempDir {
  /** the directory (from beforeAll on) */
  readonly path: string;
}

/** Registers the hooks where it is called; `prefix` starts the directory's name under os.tmpdir(). */
export function tempDir(prefix: string): TempDir {
  let dir: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get path(): string {
      if (dir === undefined) throw new Error(`temporary directory ${prefix}*: used before beforeAll`);
      return dir;
    },
  };
}
