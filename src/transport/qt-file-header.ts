import { SynackError } from '../errors.js';

/** Bytes before the file name: `int64 totalBytes` and `int64 nameSize`. */
const FIXED_BYTES = 16;
const QSTRING_NULL = 0xffffffff;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * A decoded seed 002 file-transfer header.
 *
 * All sizes are plain `number`s: the decoder refuses (with `E_FRAME_TOO_LARGE`) any total above
 * `Number.MAX_SAFE_INTEGER` (8 PiB), so every value here is an exact integer.
 */
export interface FileHeader {
  /** Header length + file length, as the sender declared it. */
  totalBytes: number;
  /** Length of the serialised QString (4 + 2 × UTF-16 code units) = `headerBytes - 16`. */
  nameSize: number;
  /** The sender's base name, exactly as sent: pass it through `safeBaseName` before using it. */
  fileName: string;
  /** Length of the whole header (16 + `nameSize`). */
  headerBytes: number;
  /** Length of the file that follows the header (`totalBytes - headerBytes`). */
  fileBytes: number;
}

/** Limits applied by {@link FileHeaderDecoder}. */
export interface FileHeaderDecoderOptions {
  /** Largest accepted file name, in UTF-16 bytes (the QString's length). Default 4096. */
  maxNameBytes?: number;
  /** Largest accepted file, in bytes. Default: no limit beyond `Number.MAX_SAFE_INTEGER`. */
  maxFileBytes?: number;
}

/**
 * Encodes the header a Qt sender (seed 002) writes before the file bytes: `int64 totalBytes`,
 * `int64 nameSize`, then the name as a QString, all big-endian.
 *
 * @param name the base name to announce (sent as is; no directory parts).
 * @param fileBytes the length of the file that will follow.
 * @throws RangeError if `fileBytes` is not a non-negative safe integer (or bigint within int64).
 *
 * @example
 * ```ts
 * encodeFileHeader('a.txt', 5);
 * // <00 00 00 00 00 00 00 23  00 00 00 00 00 00 00 0e  00 00 00 0a 00 61 00 2e 00 74 00 78 00 74>
 * ```
 */
export function encodeFileHeader(name: string, fileBytes: bigint | number): Buffer {
  if (typeof fileBytes === 'number' && !Number.isSafeInteger(fileBytes)) {
    throw new RangeError(`file size must be a whole number of bytes, got ${fileBytes}`);
  }
  const size = BigInt(fileBytes);
  const qstring = encodeQString(name);
  const header = Buffer.alloc(FIXED_BYTES + qstring.length);
  const total = BigInt(header.length) + size;
  if (size < 0n || total > INT64_MAX) {
    throw new RangeError(`file size must be between 0 and ${INT64_MAX - BigInt(header.length)}, got ${size}`);
  }
  header.writeBigInt64BE(total, 0);
  header.writeBigInt64BE(BigInt(qstring.length), 8);
  qstring.copy(header, FIXED_BYTES);
  return header;
}

/**
 * Incremental decoder for the seed 002 file header. Feed it what the socket delivers; it returns
 * `null` until the whole header has arrived (split anywhere), then the header and `rest`, the file
 * bytes that came in the same chunk (a view, not a copy; it may be empty).
 *
 * Checks the sizes as soon as they arrive, before buffering the name, and throws a `SynackError`:
 * `E_PROTOCOL` for a malformed header or a name over `maxNameBytes`, `E_FRAME_TOO_LARGE` for a
 * file over `maxFileBytes`. It does not count the file bytes: stopping at `fileBytes` and
 * reporting a short or overlong stream is the receiver's job.
 *
 * One decoder reads one header. After it, or after an error, it only throws.
 *
 * @example
 * ```ts
 * const decoder = new FileHeaderDecoder({ maxFileBytes: 1 << 30 });
 * socket.on('data', (chunk) => {
 *   const done = decoder.push(chunk); // after that, write chunks to the file directly
 *   if (done) console.log(done.header.fileName, done.header.fileBytes, done.rest.length);
 * });
 * ```
 */
export class FileHeaderDecoder {
  readonly #maxNameBytes: number;
  readonly #maxFileBytes: number;
  #pending: Buffer = Buffer.alloc(0);
  #sizes: Omit<FileHeader, 'fileName'> | undefined;
  #done = false;
  #error: unknown;

  constructor(options: FileHeaderDecoderOptions = {}) {
    this.#maxNameBytes = checkLimit('maxNameBytes', options.maxNameBytes ?? 4096);
    this.#maxFileBytes = checkLimit('maxFileBytes', options.maxFileBytes ?? Number.MAX_SAFE_INTEGER);
  }

  /** True once the header has been returned. */
  get done(): boolean {
    return this.#done;
  }

  /** Adds received bytes; returns the header and the file bytes after it once complete. */
  push(chunk: Buffer): { header: FileHeader; rest: Buffer } | null {
    if (this.#error !== undefined) throw this.#error;
    if (this.#done) throw new Error('the file header is already decoded: the bytes that follow are file data');
    try {
      return this.#push(chunk);
    } catch (error) {
      this.#error = error;
      this.#pending = Buffer.alloc(0);
      throw error;
    }
  }

  #push(chunk: Buffer): { header: FileHeader; rest: Buffer } | null {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    if (buf.length < FIXED_BYTES) return this.#wait(buf);
    const sizes = (this.#sizes ??= this.#readSizes(buf));
    if (buf.length < FIXED_BYTES + 4) return this.#wait(buf);
    const nameLength = buf.readUInt32BE(FIXED_BYTES);
    if (nameLength === QSTRING_NULL) {
      throw new SynackError('E_PROTOCOL', 'bad file header: the file name is a null QString');
    }
    if (nameLength % 2 !== 0) {
      throw new SynackError(
        'E_PROTOCOL',
        `bad file header: the file name is ${nameLength} bytes long, an odd number, so it is not UTF-16`,
      );
    }
    if (4 + nameLength !== sizes.nameSize) {
      throw new SynackError(
        'E_PROTOCOL',
        `bad file header: the name size field says ${sizes.nameSize} bytes but the file name takes ${4 + nameLength}`,
      );
    }
    if (buf.length < sizes.headerBytes) return this.#wait(buf);
    const fileName = decodeUtf16Be(buf.subarray(FIXED_BYTES + 4, sizes.headerBytes));
    const rest = buf.subarray(sizes.headerBytes);
    this.#pending = Buffer.alloc(0);
    this.#done = true;
    return { header: { ...sizes, fileName }, rest };
  }

  /** Keeps a partial header (copied: it is at most one header long) until more bytes come. */
  #wait(buf: Buffer): null {
    this.#pending = buf === this.#pending ? buf : Buffer.from(buf);
    return null;
  }

  #readSizes(buf: Buffer): Omit<FileHeader, 'fileName'> {
    const total = buf.readBigInt64BE(0);
    const nameSize = buf.readBigInt64BE(8);
    if (total < 0n) {
      throw new SynackError('E_PROTOCOL', `bad file header: the total size is negative (${total})`);
    }
    if (nameSize < 4n) {
      throw new SynackError(
        'E_PROTOCOL',
        `bad file header: the name size is ${nameSize} bytes, too small for a QString (at least 4)`,
      );
    }
    if (nameSize - 4n > BigInt(this.#maxNameBytes)) {
      throw new SynackError(
        'E_PROTOCOL',
        `bad file header: the file name would be ${nameSize - 4n} bytes, more than the ${this.#maxNameBytes} allowed`,
      );
    }
    const headerBytes = FIXED_BYTES + Number(nameSize);
    if (total < BigInt(headerBytes)) {
      throw new SynackError(
        'E_PROTOCOL',
        `bad file header: the total size (${total}) is smaller than the header itself (${headerBytes} bytes)`,
      );
    }
    const fileBytes = total - BigInt(headerBytes);
    const maxFileBytes = Math.min(this.#maxFileBytes, Number.MAX_SAFE_INTEGER - headerBytes);
    if (fileBytes > BigInt(maxFileBytes)) {
      throw new SynackError(
        'E_FRAME_TOO_LARGE',
        `the announced file is ${fileBytes} bytes, more than the ${maxFileBytes} allowed`,
      );
    }
    return { totalBytes: Number(total), nameSize: Number(nameSize), headerBytes, fileBytes: Number(fileBytes) };
  }
}

function checkLimit(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${option} must be a whole number of bytes, got ${value}`);
  }
  return value;
}

function encodeQString(text: string): Buffer {
  const out = Buffer.alloc(4 + text.length * 2);
  out.writeUInt32BE(text.length * 2, 0);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), 4 + i * 2);
  return out;
}

function decodeUtf16Be(bytes: Buffer): string {
  return Buffer.from(bytes).swap16().toString('utf16le');
}
