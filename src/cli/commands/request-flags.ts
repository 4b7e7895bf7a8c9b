/**
 * The flags that describe the connection being asked about (DEST's protocol, Host, SNI, …), shared
 * by trace, whyblackhole and doctor so that each means the same everywhere. Light imports only.
 */
import type { Argv, Options } from 'yargs';
import type { RequestFlags } from '../../analyze/trace/request.js';
import type { Protocol } from '../../analyze/trace/types.js';

export interface RequestArgs {
  protocol?: string;
  'server-first'?: boolean;
  host?: string;
  sni?: string;
  alpn?: string[];
  method?: string;
  header?: string[];
  address?: string;
}

const REQUEST_OPTIONS = {
  protocol: { type: 'string', choices: ['tcp', 'http', 'http2', 'tls'], describe: 'What the application sends first (default from DEST: tcp)' },
  'server-first': { type: 'boolean', describe: 'TCP protocol where the server speaks first (MySQL, SMTP, ...)' },
  host: { type: 'string', describe: 'HTTP Host header (default from DEST)' },
  sni: { type: 'string', describe: 'TLS SNI (default: the DEST hostname)' },
  alpn: { type: 'string', array: true, describe: 'TLS ALPN values offered (comma-separated)' },
  method: { type: 'string', describe: 'HTTP method (default GET)' },
  header: { type: 'string', array: true, describe: 'Extra HTTP request header NAME:VALUE (repeatable)' },
  address: { type: 'string', describe: 'The IP a hostname DEST resolves to' },
} as const satisfies Record<keyof RequestArgs, Options>;

export type RequestOption = keyof typeof REQUEST_OPTIONS;

/** Adds the named request flags, in this order, under `group`. */
export function requestOptions<T>(y: Argv<T>, group: string, names: readonly RequestOption[]): Argv<T> {
  let out = y;
  for (const n of names) out = out.option(n, { ...REQUEST_OPTIONS[n], group }) as Argv<T>;
  return out;
}

/** argv → RequestFlags (only what was given; buildRequest validates the combination with DEST). */
export function toRequestFlags(a: RequestArgs): RequestFlags {
  return {
    ...(a.protocol !== undefined ? { protocol: a.protocol as Protocol } : {}),
    ...(a.host !== undefined ? { host: a.host } : {}),
    ...(a.sni !== undefined ? { sni: a.sni } : {}),
    ...(a.alpn !== undefined ? { alpn: a.alpn.flatMap((s) => s.split(',')).filter(Boolean) } : {}),
    ...(a['server-first'] ? { serverFirst: true } : {}),
    ...(a.method !== undefined ? { method: a.method } : {}),
    ...(a.header !== undefined ? { headers: a.header } : {}),
    ...(a.address !== undefined ? { address: a.address } : {}),
  };
}
