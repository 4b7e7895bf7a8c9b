/**
 * The release archive writer (scripts/packaging/archive.mjs): same inputs, same bytes; entries,
 * modes and contents survive a round trip, and the archives are readable by standard tools
 * (tar; Python's zipfile for the zip, when python3 is there).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readArchive, writeTarGz, writeZip } from '../../scripts/packaging/archive.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meg-archive-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const bin = path.join(tmp, 'kubectl-mesh_egress');
const license = path.join(tmp, 'LICENSE');
fs.writeFileSync(bin, Buffer.concat([Buffer.from('#!/bin/sh\necho hi\n'), Buffer.alloc(70_000, 7)]));
fs.writeFileSync(license, 'Apache License\n');
const entries = [
  { name: 'kubectl-mesh_egress', file: bin, mode: 0o755 },
  { name: 'LICENSE', file: license, mode: 0o644 },
];

function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
}

describe.each([
  ['tar.gz', writeTarGz],
  ['zip', writeZip],
] as const)('%s', (ext, write) => {
  it('is deterministic', () => {
    const a = path.join(tmp, `a.${ext}`);
    const b = path.join(tmp, `b.${ext}`);
    write(a, entries);
    fs.utimesSync(bin, new Date(), new Date()); // file times do not leak in
    write(b, entries);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });
  it('round-trips names, modes and contents', () => {
    const f = path.join(tmp, `r.${ext}`);
    write(f, entries);
    const back = readArchive(f);
    expect(back.map((e) => [e.name, e.mode])).toEqual([
      ['kubectl-mesh_egress', 0o755],
      ['LICENSE', 0o644],
    ]);
    expect(back[0]!.data.equals(fs.readFileSync(bin))).toBe(true);
    expect(back[1]!.data.toString()).toBe('Apache License\n');
  });
});

describe('standard tools read them', () => {
  it('tar lists and extracts the .tar.gz with its modes', () => {
    const f = path.join(tmp, 't.tar.gz');
    writeTarGz(f, entries);
    const list = spawnSync('tar', ['-tvzf', f], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^-rwxr-xr-x .*kubectl-mesh_egress$/m);
    expect(list.stdout).toMatch(/^-rw-r--r-- .*LICENSE$/m);
    const out = fs.mkdtempSync(path.join(tmp, 'x-'));
    expect(spawnSync('tar', ['-xzf', f, '-C', out]).status).toBe(0);
    expect(fs.statSync(path.join(out, 'kubectl-mesh_egress')).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(path.join(out, 'kubectl-mesh_egress')).equals(fs.readFileSync(bin))).toBe(true);
  });
  it.runIf(have('python3'))('python zipfile tests the .zip', () => {
    const f = path.join(tmp, 't.zip');
    writeZip(f, entries);
    const r = spawnSync('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("\\n".join(f"{i.filename} {i.external_attr>>16:o}" for i in z.infolist()))', f], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('kubectl-mesh_egress 100755\nLICENSE 100644\n');
  });
});
