import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { perTestCleanup, stderrLines } from './run-cli.js';

const systemAddresses = Object.values(os.networkInterfaces()).flatMap((infos) => (infos ?? []).map((i) => i.address));

describe.concurrent('synack interfaces (CLI)', () => {
  const scope = perTestCleanup();

  it('lists every local address as JSON, loopback 127.0.0.1 (IPv4) first', async (ctx) => {
    const cli = scope.cli(ctx, ['interfaces', '--json']);
    const exit = await cli.exited(10_000);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
    const listed = cli.events;
    expect(listed.length).toBe(cli.lines.length);
    expect(listed.every((e) => e.event === 'interface' && typeof e.ts === 'number')).toBe(true);
    expect(listed[0]).toMatchObject({ address: '127.0.0.1', family: 'IPv4', internal: true, cidr: '127.0.0.1/8' });
    expect(listed.map((e) => e.address).sort()).toEqual([...systemAddresses].sort());
    const v6Loopback = listed.find((e) => e.address === '::1');
    if (systemAddresses.includes('::1')) expect(v6Loopback).toMatchObject({ family: 'IPv6', internal: true });
    else expect(v6Loopback).toBeUndefined();
  });

  it('prints one readable line per address without --json', async (ctx) => {
    const exit = await scope.cli(ctx, ['interfaces']).exited(10_000);
    expect(exit.code).toBe(0);
    const lines = exit.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(systemAddresses.length);
    expect(lines[0]).toMatch(/^\S+\s+IPv4\s+127\.0\.0\.1\s+127\.0\.0\.1\/8 \(loopback\)$/);
  });

  it('exits 2 with a one-line reason for an unknown option', async (ctx) => {
    const exit = await scope.cli(ctx, ['interfaces', '--all']).exited(10_000);
    expect(exit.code).toBe(2);
    expect(stderrLines(exit)).toEqual(["synack: interfaces: Unknown option '--all'", "Run 'synack interfaces --help' for usage."]);
    expect(exit.stdout).toBe('');
  });
});
