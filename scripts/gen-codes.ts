// Writes docs/codes.md from the finding catalog (src/analyze/catalog.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCatalogMarkdown } from '../src/analyze/catalog.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
fs.writeFileSync(path.join(root, 'docs', 'codes.md'), renderCatalogMarkdown());
console.log('wrote docs/codes.md');
