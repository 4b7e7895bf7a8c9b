/**
 * Finding codes of `log-level`: Envoy logger changes and restores. Codes MEG060–MEG064.
 * Codes are forever (see catalog.ts).
 */
// import { entry } from './catalog-entry.js';

export const logLevelCodes = {} as const;
