import { SynackError, type SynackErrorCode, type SynackErrorInfo } from '../errors.js';

/**
 * Marks a seed 002 file name as sent by synack: `./a.txt`, `./photos/beach.jpg`. A Qt receiver
 * opens `./a.txt` relative to its working directory, which is the same file as `a.txt`; a Qt
 * sender never sends a `/` (it strips everything up to the last one). So the prefix tells a synack
 * receiver that the sender reads its socket, and nothing changes for a Qt peer.
 */
export const SYNACK_NAME_PREFIX = './';

/**
 * First byte of a synack control line (`S` of `SYNACK`). A seed 002 header starts with the
 * big-endian int64 total, whose first byte is 0 for anything below 64 PiB, so a connection whose
 * first byte is `S` can only be a synack continuation request.
 */
export const CONTROL_FIRST_BYTE = 0x53;

/** Longest control line accepted, newline included. */
export const MAX_CONTROL_LINE = 16 * 1024;

/** Bytes hashed at each end of a partial file to check that it belongs to the file on offer. */
export const SAMPLE_BYTES = 64 * 1024;

/**
 * The synack messages of a file transfer, each one line `SYNACK <VERB> <json>\n`. The receiver
 * sends them only to a sender whose file name carries {@link SYNACK_NAME_PREFIX}; the sender
 * sends `SEND` only on a connection opened after the receiver has spoken.
 */
export type ControlMessage =
  /** Receiver → sender, after the header: "I already hold `offset` bytes of this file". */
  | { verb: 'RESUME'; offset: number; head: string; tail: string }
  /** Sender → receiver, first line of a continuation connection. */
  | { verb: 'SEND'; name: string; size: number; offset: number; head: string; tail: string }
  /** Receiver → sender: "send the bytes from `offset` on" (the offer asked for, or 0). */
  | { verb: 'ACCEPT'; offset: number }
  /** Receiver → sender: the file is in place under its final name. */
  | { verb: 'DONE'; bytes: number; sha256: string; name: string }
  /** Receiver → sender: the transfer was refused or failed. */
  | { verb: 'ERROR'; code: SynackErrorCode; message: string };

/**
 * The name a synack sender announces: `./` + the POSIX relative path, or the bare base name when
 * `plain` (exactly what a seed 002 sender sends, with no synack extension).
 *
 * @example
 * ```ts
 * toWireName('a.txt', false); // './a.txt'
 * toWireName('a.txt', true); // 'a.txt'
 * ```
 */
export function toWireName(name: string, plain: boolean): string {
  if (plain) return name.slice(name.lastIndexOf('/') + 1);
  return SYNACK_NAME_PREFIX + name;
}

/**
 * Splits an announced name into whether it came from synack and the name proper (not yet made
 * safe: pass it through `safeRelativePath` or `safeBaseName`).
 *
 * @example
 * ```ts
 * parseWireName('./photos/a.jpg'); // { synack: true, name: 'photos/a.jpg' }
 * parseWireName('a.jpg'); // { synack: false, name: 'a.jpg' }
 * ```
 */
export function parseWireName(wire: string): { synack: boolean; name: string } {
  return wire.startsWith(SYNACK_NAME_PREFIX) ? { synack: true, name: wire.slice(SYNACK_NAME_PREFIX.length) } : { synack: false, name: wire };
}

/**
 * Encodes one control line.
 *
 * @example
 * ```ts
 * encodeControl({ verb: 'ACCEPT', offset: 1024 }).toString(); // 'SYNACK ACCEPT {"offset":1024}\n'
 * ```
 */
export function encodeControl(message: ControlMessage): Buffer {
  const { verb, ...fields } = message;
  return Buffer.from(`SYNACK ${verb} ${JSON.stringify(fields)}\n`);
}

/**
 * An error as a receiver reports it to a synack sender.
 *
 * @example
 * ```ts
 * encodeControl(errorMessage({ code: 'E_DISK_FULL', message: 'no space left' }));
 * ```
 */
export function errorMessage(error: SynackErrorInfo): ControlMessage {
  return { verb: 'ERROR', code: error.code, message: error.message };
}

/**
 * Splits received bytes into control lines. `push` returns the messages completed by a chunk and
 * the bytes after the last newline when `stopAfterFirst` (the data that follows a `SEND`).
 * Throws `E_PROTOCOL` for a line that is not a valid control message or is too long.
 *
 * @example
 * ```ts
 * const lines = new ControlLineDecoder();
 * socket.on('data', (chunk) => {
 *   for (const message of lines.push(chunk).messages) console.log(message.verb);
 * });
 * ```
 */
export class ControlLineDecoder {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, stopAfterFirst = false): { messages: ControlMessage[]; rest: Buffer } {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const messages: ControlMessage[] = [];
    for (;;) {
      const newline = buf.indexOf(0x0a);
      if (newline < 0) break;
      if (newline + 1 > MAX_CONTROL_LINE) throw tooLong();
      messages.push(parseControl(buf.subarray(0, newline).toString('utf8')));
      buf = buf.subarray(newline + 1);
      if (stopAfterFirst) {
        this.#pending = Buffer.alloc(0);
        return { messages, rest: buf };
      }
    }
    if (buf.length >= MAX_CONTROL_LINE) throw tooLong();
    this.#pending = Buffer.from(buf);
    return { messages, rest: Buffer.alloc(0) };
  }
}

function tooLong(): SynackError {
  return new SynackError('E_PROTOCOL', `bad control line: longer than ${MAX_CONTROL_LINE} bytes`);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Parses one control line (without its newline); throws `E_PROTOCOL` when it is not one.
 *
 * @example
 * ```ts
 * parseControl('SYNACK ACCEPT {"offset":1024}'); // { verb: 'ACCEPT', offset: 1024 }
 * ```
 */
export function parseControl(line: string): ControlMessage {
  const match = /^SYNACK ([A-Z]+) (\{.*\})$/.exec(line);
  if (!match) throw bad(line, 'expected SYNACK <VERB> <json>');
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(match[2]!) as Record<string, unknown>;
  } catch {
    throw bad(line, 'the fields are not JSON');
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw bad(line, 'the fields are not an object');
  const count = (key: string) => {
    const value = fields[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(line, `${key} must be a whole number ≥ 0`);
    return value;
  };
  const text = (key: string) => {
    const value = fields[key];
    if (typeof value !== 'string') throw bad(line, `${key} must be a string`);
    return value;
  };
  const digest = (key: string) => {
    const value = text(key);
    if (!SHA256_HEX.test(value)) throw bad(line, `${key} must be a SHA-256 in hex`);
    return value;
  };
  switch (match[1]) {
    case 'RESUME':
      return { verb: 'RESUME', offset: count('offset'), head: digest('head'), tail: digest('tail') };
    case 'SEND': {
      const message = { verb: 'SEND' as const, name: text('name'), size: count('size'), offset: count('offset'), head: digest('head'), tail: digest('tail') };
      if (message.offset > message.size) throw bad(line, 'offset is beyond the end of the file');
      return message;
    }
    case 'ACCEPT':
      return { verb: 'ACCEPT', offset: count('offset') };
    case 'DONE':
      return { verb: 'DONE', bytes: count('bytes'), sha256: digest('sha256'), name: text('name') };
    case 'ERROR': {
      const code = text('code');
      if (!/^E_[A-Z_]+$/.test(code)) throw bad(line, 'code must look like E_SOMETHING');
      return { verb: 'ERROR', code: code as SynackErrorCode, message: text('message') };
    }
    default:
      throw bad(line, `unknown verb ${match[1]}`);
  }
}

function bad(line: string, why: string): SynackError {
  const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
  return new SynackError('E_PROTOCOL', `bad control line ${JSON.stringify(shown)}: ${why}`);
}
