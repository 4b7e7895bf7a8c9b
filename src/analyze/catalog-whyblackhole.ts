/**
 * Finding codes of `whyblackhole`: evidence from proxy stats and access logs. Codes MEG024–MEG029 (outbound policy evidence) and MEG065–MEG069 (logs/stats not available).
 * Codes are forever (see catalog.ts).
 */
// import { entry } from './catalog-entry.js';

export const whyBlackholeCodes = {} as const;
