// Types of archive.mjs for the TypeScript tests (test/packaging).
export interface Entry {
  readonly name: string;
  readonly file: string;
  readonly mode: number;
}
export function archiveEpoch(): number;
export function writeTarGz(out: string, entries: readonly Entry[]): void;
export function writeZip(out: string, entries: readonly Entry[]): void;
export function readArchive(file: string): { name: string; mode: number; data: Buffer }[];
