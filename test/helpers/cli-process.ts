/**
 * The CLI where a test sends it signals: in-process with an Io whose signal source the test fires,
 * or the built CLI as a child process that gets real signals: the bundle `npm run build` makes, or
 * what MESH_EGRESS_BIN names (the single executable in CI, run as itself). Both let the test wait for what the CLI prints
 * on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Io, SignalName } from '../../src/cli/io.js';
import { repoRoot } from './shared.js';
import { tempDir } from './temp-dir.js';

/** stderr as it arrives, and promises that resolve once it matches. */
function stderrWatch(): { append(text: string): void; text(): string; waitFor(re: RegExp, timeoutMs?: number): Promise<void> } {
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  return {
    append(text) {
      err += text;
      for (const w of [...waiters]) {
        if (w.re.test(err)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    text: () => err,
    waitFor(re, timeoutMs = 20_000) {
      if (re.test(err)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`stderr never matched ${re}:\n${err}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
  };
}

/** The CLI in-process, with signals the test sends and a way to wait for what it prints. */
export interface InProcess {
  readonly done: Promise<number>;
  out(): string;
  err(): string;
  /** resolves once stderr matches */
  waitForErr(re: RegExp, timeoutMs?: number): Promise<void>;
  signal(sig: SignalName): void;
  /** handlers currently subscribed */
  subscribed(): number;
}

export function startCli(args: readonly string[], env: Record<string, string>): InProcess {
  let out = '';
  const err = stderrWatch();
  const handlers = new Set<(s: SignalName) => void>();
  const io: Io = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => err.append(t),
    isTTY: false,
    env,
    columns: 100,
    stdin: () => Buffer.alloc(0),
    signals: {
      subscribe(h) {
        handlers.add(h);
        return () => handlers.delete(h);
      },
    },
  };
  const done = main(args, io);
  return {
    done,
    out: () => out,
    err: err.text,
    waitForErr: err.waitFor,
    signal(sig) {
      for (const h of [...handlers]) h(sig);
    },
    subscribed: () => handlers.size,
  };
}

/** Whether a built CLI is a script for node (bundle, launcher) rather than a native executable. */
function isJavaScript(file: string): boolean {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  // ELF, Mach-O (either byte order, fat) and PE executables
  const magic = head.readUInt32BE(0);
  return !(magic === 0x7f454c46 || magic === 0xcffaedfe || magic === 0xfeedfacf || magic === 0xcafebabe || head.subarray(0, 2).toString('latin1') === 'MZ');
}

/** The built CLI as a child process. */
export interface Child {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  out(): string;
  err(): string;
  waitForErr(re: RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * `group`: in a process group of its own, as a shell's foreground job (a terminal's Ctrl-C signals
 * the whole group). A child still running after `killAfterMs` gets SIGKILL.
 */
export function spawnBuilt(bundle: string, args: readonly string[], env: Record<string, string>, o: { group?: boolean; killAfterMs?: number } = {}): Child {
  // a JavaScript bundle runs under this node; the single executable (MESH_EGRESS_BIN) runs itself
  const [cmd, argv] = isJavaScript(bundle) ? [process.execPath, [bundle, ...args]] : [bundle, [...args]];
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: o.group === true });
  let out = '';
  const err = stderrWatch();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => err.append(d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 60_000);
  void exit.then(() => clearTimeout(killer));
  return { child, exit, out: () => out, err: err.text, waitForErr: err.waitFor };
}

/**
 * The bundle to spawn: MESH_EGRESS_BIN (relative to the repository root) if set, else built in
 * beforeAll from the current sources by the function `npm run build` uses, into a temporary
 * directory named by `prefix` (removed in afterAll).
 */
export function builtCli(prefix: string): { readonly bundle: string } {
  const tmp = tempDir(prefix);
  let bundle = process.env.MESH_EGRESS_BIN ? path.resolve(repoRoot, process.env.MESH_EGRESS_BIN) : '';
  beforeAll(async () => {
    if (!bundle) {
      const { bundle: build } = (await import(path.join(repoRoot, 'scripts', 'build.mjs'))) as { bundle: (o: { outfile: string }) => Promise<unknown> };
      bundle = path.join(tmp.path, 'kubectl-mesh_egress');
      await build({ outfile: bundle });
    }
  });
  return {
    get bundle(): string {
      return bundle;
    },
  };
}
