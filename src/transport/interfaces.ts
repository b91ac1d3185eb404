import net from 'node:net';
import os from 'node:os';

/** One address of a local network interface. */
export interface InterfaceAddress {
  name: string;
  family: 'IPv4' | 'IPv6';
  address: string;
  cidr: string | null;
  internal: boolean;
  scopeId?: number;
}

/**
 * The local interfaces and their addresses, IPv4 and IPv6, like the seed's interface drop-down.
 * Loopback first, then the rest by name; IPv4 before IPv6 on the same interface.
 *
 * @example
 * ```ts
 * for (const a of listInterfaces()) console.log(a.name, a.family, a.address);
 * ```
 */
export function listInterfaces(source: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): InterfaceAddress[] {
  const list: InterfaceAddress[] = [];
  for (const [name, infos] of Object.entries(source)) {
    for (const info of infos ?? []) {
      const entry: InterfaceAddress = {
        name,
        family: info.family === 'IPv6' ? 'IPv6' : 'IPv4',
        address: info.address,
        cidr: info.cidr,
        internal: info.internal,
      };
      if (info.family === 'IPv6' && info.scopeid) entry.scopeId = info.scopeid;
      list.push(entry);
    }
  }
  return list.sort(
    (a, b) =>
      Number(b.internal) - Number(a.internal) || a.name.localeCompare(b.name) || a.family.localeCompare(b.family),
  );
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Whether `host` (an address or `localhost`) is reachable from this machine only.
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.53'); // true
 * isLoopback('192.168.1.5'); // false
 * ```
 */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || (net.isIPv4(host) && host.startsWith('127.'));
}
