// Types of generate.mjs for the TypeScript tests (test/packaging).
export interface PlatformSha {
  readonly os: string;
  readonly arch: string;
  readonly sha256: string;
}
export const PLUGIN_NAME: string;
export const BINARY: string;
export const HOMEPAGE: string;
export const RELEASE_URL: string;
export const PLATFORMS: readonly { readonly os: string; readonly arch: string }[];
export const SHORT_DESCRIPTION: string;
export const DESCRIPTION: string;
export function caveats(): string;
export function archiveName(os: string, arch: string): string;
export function binName(os: string): string;
export function renderManifest(version: string, platforms: readonly PlatformSha[]): string;
export function sha256File(file: string): string;
export function platformsFromArchives(dir: string): (PlatformSha & { readonly file: string })[];
export function platformsFromManifest(text: string): PlatformSha[];
export function packageVersion(): string;
