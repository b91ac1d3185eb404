import net from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { isLoopback, listInterfaces } from '../../src/transport/interfaces.js';

const v4 = (address: string, internal = false): os.NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/24`,
});
const v6 = (address: string, scopeid: number, internal = false): os.NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/64`,
  scopeid,
});

describe('interface list', () => {
  it('puts loopback first, then the rest by name, IPv4 before IPv6 on each', () => {
    const list = listInterfaces({
      wlan0: [v6('fe80::1', 3), v4('192.168.1.5')],
      eth0: [v6('fd00::2', 0), v4('10.0.0.2')],
      lo: [v6('::1', 0, true), v4('127.0.0.1', true)],
      docker0: undefined,
    });
    expect(list.map((a) => `${a.name} ${a.family} ${a.address}`)).toEqual([
      'lo IPv4 127.0.0.1',
      'lo IPv6 ::1',
      'eth0 IPv4 10.0.0.2',
      'eth0 IPv6 fd00::2',
      'wlan0 IPv4 192.168.1.5',
      'wlan0 IPv6 fe80::1',
    ]);
  });

  it('keeps the cidr and internal flag, and the scope id of a link-local IPv6 address only', () => {
    const list = listInterfaces({ eth0: [v4('10.0.0.2'), v6('fd00::2', 0), v6('fe80::1', 4)] });
    expect(list).toEqual([
      { name: 'eth0', family: 'IPv4', address: '10.0.0.2', cidr: '10.0.0.2/24', internal: false },
      { name: 'eth0', family: 'IPv6', address: 'fd00::2', cidr: 'fd00::2/64', internal: false },
      { name: 'eth0', family: 'IPv6', address: 'fe80::1', cidr: 'fe80::1/64', internal: false, scopeId: 4 },
    ]);
  });

  it('keeps several addresses of one family on one interface in the order the system gave', () => {
    const list = listInterfaces({ eth0: [v4('10.0.0.9'), v4('10.0.0.2')] });
    expect(list.map((a) => a.address)).toEqual(['10.0.0.9', '10.0.0.2']);
  });

  it('is empty when there are no interfaces', () => {
    expect(listInterfaces({})).toEqual([]);
  });

  it('lists this machine’s loopback 127.0.0.1 first, and every address it has', () => {
    const system = os.networkInterfaces();
    const list = listInterfaces();
    expect(list[0]).toMatchObject({ family: 'IPv4', address: '127.0.0.1', internal: true });
    const expected = Object.values(system).flatMap((infos) => (infos ?? []).map((i) => i.address));
    expect(list.map((a) => a.address).sort()).toEqual(expected.sort());
    for (const a of list) {
      expect(net.isIP(a.address)).toBe(a.family === 'IPv4' ? 4 : 6);
    }
    const hasV6Loopback = expected.includes('::1');
    expect(list.some((a) => a.address === '::1' && a.family === 'IPv6')).toBe(hasV6Loopback);
  });

  it('counts 127.0.0.0/8, ::1 and localhost as loopback, and nothing else', () => {
    for (const host of ['127.0.0.1', '127.0.0.53', '::1', 'localhost']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['10.0.0.1', '::', '0.0.0.0', '::ffff:127.0.0.1', '127.example.com', 'fe80::1']) expect(isLoopback(host), host).toBe(false);
  });
});
