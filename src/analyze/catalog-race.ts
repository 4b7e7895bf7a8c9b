/**
 * Finding codes of `race-check`: proxy start-up races. Codes MEG050–MEG059.
 * Codes are forever (see catalog.ts).
 */
// import { entry } from './catalog-entry.js';

export const raceCodes = {} as const;
