/**
 * Finding codes of `multicluster`: trust, remote secrets, topology, endpoints across clusters. Codes MEG090–MEG099.
 * Codes are forever (see catalog.ts).
 */
// import { entry } from './catalog-entry.js';

export const multiclusterCodes = {} as const;
