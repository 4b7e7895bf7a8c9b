/**
 * Lease files of `log-level`: what a run left changed on which proxies, so that
 * `log-level --restore` can set exactly that back later, and later runs can warn when it outlives
 * its expiry. One JSON file per run under $XDG_CACHE_HOME/mesh-egress/leases (default
 * ~/.cache/mesh-egress/leases; %LOCALAPPDATA% on Windows), private to the user (0700/0600).
 * A lease holds names and levels only: context and cluster names, pod names and UIDs, logger
 * levels. No credentials, no kubeconfig content, no server URL.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LEASE_KIND = 'LogLevelLease';

export interface LeasePod {
  readonly namespace: string;
  readonly name: string;
  /** the pod's UID: a pod recreated under the same name is another proxy */
  readonly uid?: string;
  /** logger → level before the change (only the loggers changed) */
  readonly previous: Readonly<Record<string, string>>;
  /** logger → level set */
  readonly applied: Readonly<Record<string, string>>;
}

/** The pods a run selected, to match `--restore TARGET` (pods also match by name). */
export interface LeaseSelection {
  readonly kind: 'pod' | 'workload' | 'selector';
  readonly namespace?: string;
  readonly resource?: string;
  readonly name?: string;
  readonly selector?: string;
  readonly allNamespaces?: boolean;
}

/** The run that holds a lease while its change lasts (a lease without owner is left for --restore). */
export interface LeaseOwner {
  readonly pid: number;
  readonly host: string;
}

export interface Lease {
  readonly apiVersion: 'mesh-egress/v1';
  readonly kind: typeof LEASE_KIND;
  /** kubeconfig context the pods are in */
  readonly context: string;
  readonly cluster?: string;
  /** TARGET as given, for messages */
  readonly target: string;
  readonly selection?: LeaseSelection;
  /**
   * active: a run's change in progress (written before the first change request, deleted after its
   * restore: if the run dies without restoring, the lease is what is left); detached (--detach);
   * restore-failed; restore-abandoned (a third Ctrl-C)
   */
  readonly reason: 'active' | 'detached' | 'restore-failed' | 'restore-abandoned';
  readonly owner?: LeaseOwner;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly pods: readonly LeasePod[];
}

export interface StoredLease {
  readonly file: string;
  readonly lease: Lease;
}

export function leaseDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_CACHE_HOME;
  const base =
    xdg && path.isAbsolute(xdg)
      ? xdg
      : process.platform === 'win32' && env.LOCALAPPDATA
        ? env.LOCALAPPDATA
        : path.join(env.HOME || env.USERPROFILE || os.homedir(), '.cache');
  return path.join(base, 'mesh-egress', 'leases');
}

function isLease(v: unknown): v is Lease {
  const l = v as Partial<Lease> | null;
  return !!l && l.kind === LEASE_KIND && typeof l.context === 'string' && typeof l.expiresAt === 'string' && Array.isArray(l.pods);
}

/** Every lease file, oldest first; unreadable ones are reported, not fatal. */
export function readLeases(env: Readonly<Record<string, string | undefined>>): { leases: StoredLease[]; unreadable: { file: string; problem: string }[] } {
  const dir = leaseDir(env);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { leases: [], unreadable: [] };
  }
  const leases: StoredLease[] = [];
  const unreadable: { file: string; problem: string }[] = [];
  for (const n of names.sort()) {
    const file = path.join(dir, n);
    try {
      const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (isLease(v)) leases.push({ file, lease: v });
      else unreadable.push({ file, problem: 'not a log-level lease' });
    } catch (e) {
      unreadable.push({ file, problem: (e as Error).message.split('\n')[0] ?? 'unreadable' });
    }
  }
  leases.sort((a, b) => a.lease.createdAt.localeCompare(b.lease.createdAt) || a.file.localeCompare(b.file));
  return { leases, unreadable };
}

/** Writes a new lease (never overwrites one); returns its path. */
export function writeLease(env: Readonly<Record<string, string | undefined>>, lease: Lease): string {
  const dir = leaseDir(env);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = lease.createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const safe = lease.context.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  const file = path.join(dir, `${stamp}-${safe}-${crypto.randomBytes(3).toString('hex')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(lease, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/** Replaces a lease's content (pods left after a partial restore). */
export function rewriteLease(file: string, lease: Lease): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(lease, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function deleteLease(file: string): void {
  fs.rmSync(file, { force: true });
}

export function currentOwner(): LeaseOwner {
  return { pid: process.pid, host: os.hostname() };
}

/** Whether the run that owns the lease is still running (on this host; another host's cannot be asked). */
export function heldByLiveRun(lease: Lease): boolean {
  const o = lease.owner;
  if (!o || o.host !== os.hostname()) return false;
  if (o.pid === process.pid) return true;
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
