import { SynackError } from '../errors.js';

/** Line ending appended to text sent with raw framing. */
export type Eol = 'none' | 'lf' | 'crlf';

const EOL_BYTES: Record<Eol, string> = { none: '', lf: '\n', crlf: '\r\n' };

/**
 * Encodes a line typed by a person for raw framing: UTF-8 text plus the chosen line ending,
 * or, with `hex`, the bytes the hex digits spell.
 *
 * @example
 * ```ts
 * encodeRawLine('hello', { eol: 'crlf' }); // <68 65 6c 6c 6f 0d 0a>
 * encodeRawLine('de ad be ef', { hex: true }); // <de ad be ef>
 * ```
 */
export function encodeRawLine(line: string, options: { eol?: Eol; hex?: boolean } = {}): Buffer {
  if (options.hex) return parseHex(line);
  return Buffer.from(line + EOL_BYTES[options.eol ?? 'lf'], 'utf8');
}

/**
 * Parses hex digits into bytes. Spaces, colons, dashes and `0x` prefixes between bytes are
 * allowed. Throws `E_BAD_HEX` saying where the input went wrong.
 *
 * @example
 * ```ts
 * parseHex('0x48 0x69'); // <48 69>
 * ```
 */
export function parseHex(input: string): Buffer {
  // `0x` counts only as a byte's prefix (at the start or after a separator), never inside digits.
  const digits = input.replace(/(^|[\s:,-])0x/gi, '$1').replace(/[\s:,-]/g, '');
  const bad = digits.search(/[^0-9a-f]/i);
  if (bad !== -1) {
    throw new SynackError('E_BAD_HEX', `invalid hex: '${digits[bad]}' is not a hex digit (in "${input.trim()}")`);
  }
  if (digits.length % 2 !== 0) {
    throw new SynackError('E_BAD_HEX', `invalid hex: odd number of digits (${digits.length}) in "${input.trim()}"`);
  }
  return Buffer.from(digits, 'hex');
}

/**
 * Shows received bytes as text: UTF-8, with invalid bytes and control characters (other than
 * tab, CR and LF) escaped as `\xNN`, so nothing a peer sends can drive the terminal.
 *
 * @example
 * ```ts
 * displayText(Buffer.from([0x68, 0x69, 0x1b, 0xff])); // 'hi\x1b\xff'
 * ```
 */
export function displayText(bytes: Buffer): string {
  let out = '';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!text.includes('\uFFFD')) return escapeControls(text);
  let offset = 0;
  while (offset < bytes.length) {
    const len = utf8SequenceLength(bytes, offset);
    if (len === 0) {
      out += `\\x${bytes[offset]!.toString(16).padStart(2, '0')}`;
      offset += 1;
    } else {
      out += escapeControls(bytes.toString('utf8', offset, offset + len));
      offset += len;
    }
  }
  return out;
}

function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function utf8SequenceLength(bytes: Buffer, offset: number): number {
  const b = bytes[offset]!;
  const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (len <= 1 || offset + len > bytes.length) return len === 1 ? 1 : 0;
  for (let i = 1; i < len; i++) if ((bytes[offset + i]! & 0xc0) !== 0x80) return 0;
  const decoded = bytes.toString('utf8', offset, offset + len);
  // Overlong forms and surrogates decode to U+FFFD; a real U+FFFD (EF BF BD) is valid text.
  return decoded.includes('\uFFFD') && !(len === 3 && bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) ? 0 : len;
}

/**
 * A classic hex dump, laid out as `hexdump -C` prints it: offset, 16 bytes in hex (a gap after 8),
 * and their printable ASCII.
 *
 * @example
 * ```ts
 * hexDump(Buffer.from('Hello')); // '00000000  48 65 6c 6c 6f' + 36 spaces + '|Hello|'
 * ```
 */
export function hexDump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${(right ? `${left}  ${right}` : left).padEnd(50)}|${ascii}|`);
  }
  return lines.join('\n');
}
