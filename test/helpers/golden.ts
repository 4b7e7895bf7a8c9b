/**
 * Golden files: compared byte for byte; UPDATE_GOLDEN=1 rewrites them (review the diff like code).
 * A missing golden fails unless UPDATE_GOLDEN=1, so a new case cannot pass by writing its own answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export const updateGoldens = process.env.UPDATE_GOLDEN === '1';

export function expectGolden(file: string, actual: string): void {
  if (updateGoldens) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) throw new Error(`missing golden ${path.relative(process.cwd(), file)}: run UPDATE_GOLDEN=1 npx vitest run <this test file> and review it`);
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}
