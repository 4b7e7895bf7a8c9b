/**
 * Finding codes of `doctor`: the external-service checklist. Codes MEG018–MEG019 (probe), MEG043–MEG049 (labels, subsets), MEG071–MEG079 (TLS), MEG080–MEG089 (NetworkPolicy).
 * Codes are forever (see catalog.ts).
 */
// import { entry } from './catalog-entry.js';

export const doctorCodes = {} as const;
