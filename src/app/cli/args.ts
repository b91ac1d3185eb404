import net from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SynackError } from '../../errors.js';
import type { Framing } from '../../machines/connection.js';
import type { Eol } from '../../transport/raw.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** How the commands that carry bytes show and send them: `--hex`, `--eol`. */
export const BYTES_OPTIONS = {
  hex: { type: 'boolean' },
  eol: { type: 'string' },
} as const satisfies Options;

/** `--inspect`, for every command that runs actors. */
export const INSPECT_OPTION = {
  inspect: { type: 'boolean' },
} as const satisfies Options;

type Values<O extends Options> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string;
};

/** Parses a command's arguments strictly: an unknown option or a missing value is E_USAGE. */
export function parseCommandArgs<O extends Options>(
  command: string,
  args: string[],
  options: O,
  allowPositionals = false,
): { values: Values<O & typeof COMMON_OPTIONS>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals });
    return { values: values as Values<O & typeof COMMON_OPTIONS>, positionals };
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new SynackError('E_USAGE', `${command}: ${message}`);
  }
}

/** A port number: 0–65535 for listening (0 = any free port), 1–65535 for connecting. */
export function parsePort(value: string | undefined, { allowZero, option = '--port' }: { allowZero: boolean; option?: string }): number {
  if (value === undefined) throw new SynackError('E_USAGE', `${option} is required`);
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new SynackError('E_USAGE', `invalid ${option} '${value}': expected a whole number from ${min} to 65535`);
  }
  return port;
}

/** A host: an IPv4/IPv6 address or a DNS name (resolution errors come later, at connect time). */
export function parseHost(value: string | undefined, fallback?: string): string {
  const host = value ?? fallback;
  if (host === undefined) throw new SynackError('E_USAGE', '--host is required');
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const isName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(bare);
  if (!net.isIP(bare) && !isName) {
    throw new SynackError('E_USAGE', `invalid --host '${host}': expected an IP address or a host name`);
  }
  return bare;
}

/** A non-negative whole number option, e.g. `--max-clients 100`. */
export function parseCount(value: string | undefined, option: string, { min = 0 } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new SynackError('E_USAGE', `invalid ${option} '${value}': expected a whole number ≥ ${min}`);
  return n;
}

export function parseEol(value: string | undefined): Eol {
  if (value === undefined) return 'lf';
  if (value === 'none' || value === 'lf' || value === 'crlf') return value;
  throw new SynackError('E_USAGE', `invalid --eol '${value}': expected none, lf or crlf`);
}

export function parseFraming(value: string | undefined): Framing {
  if (value === undefined || value === 'raw' || value === 'qt') return value ?? 'raw';
  throw new SynackError('E_USAGE', `invalid --framing '${value}': expected raw or qt`);
}

/**
 * `--framing` and `--max-frame`, refusing options that only mean something with qt framing
 * (`--relay`, `--heartbeat`…) when the framing is raw.
 */
export function parseFramingOptions(
  values: { framing?: string | undefined; 'max-frame'?: string | undefined } & Record<string, unknown>,
  qtOnly: readonly string[],
): { framing: Framing; maxFrameBytes: number | undefined } {
  const framing = parseFraming(values.framing);
  if (framing !== 'qt') {
    for (const option of ['max-frame', ...qtOnly]) {
      if (values[option] !== undefined) throw new SynackError('E_USAGE', `--${option} needs --framing qt`);
    }
  }
  return { framing, maxFrameBytes: parseCount(values['max-frame'], '--max-frame', { min: 12 }) };
}
