// Types of node-runtime.mjs for the TypeScript tests (test/packaging).
export interface Pins {
  readonly version: string;
  readonly targets: Readonly<Record<string, { readonly package: string; readonly integrity: string }>>;
  readonly unavailable?: Readonly<Record<string, string>>;
}
export const TARGETS: Readonly<Record<string, { readonly os: string; readonly arch: string; readonly exe: string; readonly sea: string }>>;
export function readPins(): Pins;
export function hostTarget(): string;
export function available(target: string): boolean;
export function cacheDir(): string;
export function fetchRuntime(target: string, opts?: { log?: (message: string) => void }): { target: string; version: string; node: string; license: string | undefined; source: string };
