/**
 * Which listener a redirected connection ends up on.
 *
 * Envoy (source/common/listener_manager/connection_handler_impl.cc, getBalancedHandlerByAddress;
 * active_tcp_socket.cc ActiveTcpSocket::newConnection): a listener with `use_original_dst`
 * (Istio's virtualOutbound on 15001) restores the original destination D and hands the socket
 * to the listener registered for D's exact "ip:port", else for the same-family wildcard
 * ("0.0.0.0:port" / "[::]:port"); every address of a listener (additional_addresses too) is
 * registered, `bind_to_port: false` listeners included; an IPv6 any-address listener with
 * ipv4_compat also answers for "0.0.0.0:port" unless a real 0.0.0.0 listener exists. Only
 * active listeners are registered: warming, draining and failed ones receive nothing. Without a
 * match the connection stays on the original listener and uses its own filter chains.
 */
import type { ListenerRef } from '../model/config-dump.js';
import { isUnspecified, parseIp, type IpAddress } from './ip.js';

export type ListenerMatchKind = 'exact' | 'wildcard' | 'none';

export interface ListenerMatch {
  readonly ref: ListenerRef | undefined;
  readonly how: ListenerMatchKind;
  /** the registered address that matched, "10.0.0.6:7000" */
  readonly address: string | undefined;
  /** listeners for this destination that exist but do not take traffic (warming, draining, error) */
  readonly inactive: readonly ListenerRef[];
}

function receivesTraffic(ref: ListenerRef): boolean {
  return ref.state === 'active' || ref.state === 'static';
}

function key(ip: IpAddress, port: number): string {
  return ip.family === 6 ? `[${ip.text}]:${port}` : `${ip.text}:${port}`;
}

/** The registration map of ConnectionHandlerImpl, built from the index without parsing listeners. */
export class ListenerAddressMap {
  private readonly map = new Map<string, ListenerRef>();
  private readonly inactiveByKey = new Map<string, ListenerRef[]>();

  constructor(refs: readonly ListenerRef[]) {
    const compatAny: { port: number; ref: ListenerRef }[] = [];
    for (const ref of refs) {
      for (const a of ref.addresses) {
        const ip = parseIp(a.address);
        if (!ip) continue;
        const k = key(ip, a.port);
        if (!receivesTraffic(ref)) {
          const list = this.inactiveByKey.get(k) ?? [];
          list.push(ref);
          this.inactiveByKey.set(k, list);
          continue;
        }
        if (!this.map.has(k)) this.map.set(k, ref);
        if (ip.family !== 6 || !a.ipv4Compat) continue;
        if (isUnspecified(ip)) compatAny.push({ port: a.port, ref });
        // ipv4-mapped ([::ffff:a.b.c.d]) addresses with ipv4_compat also register their IPv4 form
        else if (ip.bytes.slice(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff) {
          const v4 = `${ip.bytes[12]}.${ip.bytes[13]}.${ip.bytes[14]}.${ip.bytes[15]}:${a.port}`;
          if (!this.map.has(v4)) this.map.set(v4, ref);
        }
      }
    }
    // "[::]:p" with ipv4_compat answers for "0.0.0.0:p" unless a real IPv4 wildcard exists
    for (const { port, ref } of compatAny) {
      const k = `0.0.0.0:${port}`;
      if (!this.map.has(k)) this.map.set(k, ref);
    }
  }

  lookup(destination: IpAddress | undefined, port: number): ListenerMatch {
    const inactive: ListenerRef[] = [];
    if (destination) {
      const exact = key(destination, port);
      inactive.push(...(this.inactiveByKey.get(exact) ?? []));
      const hit = this.map.get(exact);
      if (hit) return { ref: hit, how: 'exact', address: exact, inactive };
    }
    const any = destination?.family === 6 ? `[::]:${port}` : `0.0.0.0:${port}`;
    inactive.push(...(this.inactiveByKey.get(any) ?? []));
    const wild = this.map.get(any);
    if (wild) return { ref: wild, how: 'wildcard', address: any, inactive };
    return { ref: undefined, how: 'none', address: undefined, inactive };
  }

  /** The listener bound on a port at any address (to find virtualOutbound on 15001). */
  boundOn(port: number): ListenerRef | undefined {
    return this.map.get(`0.0.0.0:${port}`) ?? this.map.get(`[::]:${port}`);
  }
}
