// Types of build.mjs for the TypeScript tests (test/packaging).
export const ONE_COLUMN: string;
export function bundle(opts?: { outfile?: string; target?: string; shebang?: boolean }): Promise<unknown>;
