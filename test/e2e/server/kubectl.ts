/**
 * Runs the real kubectl binaries (google-cloud-sdk ships kubectl.1.27 … kubectl.1.33 next to the
 * binary the `kubectl` on PATH dispatches to) against a test server, and never leaves children behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

let cachedDir: string | undefined;

/** The folder holding kubectl.1.27 … kubectl.1.33 (`dirname $(readlink -f $(which kubectl))`). */
export function kubectlDir(): string {
  if (cachedDir !== undefined) return cachedDir;
  let bin: string;
  try {
    bin = execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('kubectl is not on PATH');
  }
  cachedDir = path.dirname(fs.realpathSync(bin));
  return cachedDir;
}

/** Versions available as `kubectl.<minor>` binaries, oldest first (e.g. ['1.27', …, '1.33']). */
export function kubectlVersions(): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(kubectlDir());
  } catch {
    return [];
  }
  return names
    .map((n) => /^kubectl\.(\d+\.\d+)$/.exec(n)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
}

/** Path of `kubectl.<version>`; 'newest' and 'oldest' pick from what is installed. */
export function kubectlPath(version: string): string {
  const all = kubectlVersions();
  const v = version === 'newest' ? all.at(-1) : version === 'oldest' ? all[0] : version;
  const p = path.join(kubectlDir(), `kubectl.${v ?? version}`);
  if (!fs.existsSync(p)) throw new Error(`kubectl ${version} not found in ${kubectlDir()} (have ${all.join(', ')})`);
  return p;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Runs kubectl to completion (killed after timeoutMs, default 20 s). */
export function runKubectl(version: string, args: string[], o: RunOptions): Promise<KubectlResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath(version), args, { env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + 9 : -1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - t0 });
    });
    if (o.input !== undefined) child.stdin.end(o.input);
    else child.stdin.end();
  });
}

export interface PortForward {
  /** Local port kubectl bound (from its "Forwarding from 127.0.0.1:NNNNN -> P" line). */
  localPort: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `kubectl port-forward <args>` and resolves once it prints its Forwarding line. */
export function startPortForward(version: string, args: string[], o: RunOptions): Promise<PortForward> {
  const child = spawn(kubectlPath(version), ['port-forward', ...args], { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() => reject(new Error(`port-forward did not start within ${o.timeoutMs ?? 15_000} ms:\n${text}`)));
    }, o.timeoutMs ?? 15_000);
    const onData = (d: Buffer): void => {
      text += d.toString('utf8');
      const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ localPort: Number(m[1]), child, output: () => text, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward exited with ${String(code)} before forwarding:\n${text}`));
    });
  });
}
