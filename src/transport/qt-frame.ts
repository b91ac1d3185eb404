import { SynackError } from '../errors.js';

/**
 * The frame types of the seed 001 Qt network assistant (`sendStruct::Type`).
 * Peers may send other values; a decoded frame keeps whatever number arrived.
 *
 * @example
 * ```ts
 * if (frame.type === QtFrameType.HEARTBEAT) lastPong = Date.now();
 * ```
 */
export const QtFrameType = {
  TEXT: 1,
  IMAGE: 2,
  VIDEO: 3,
  HEARTBEAT: 100,
} as const;

/** One of the known {@link QtFrameType} values. */
export type QtFrameType = (typeof QtFrameType)[keyof typeof QtFrameType];

/**
 * One `sendStruct` as it travels over QDataStream, without its leading size field.
 * `null` is Qt's null QString / QByteArray (length 0xFFFFFFFF), distinct from empty.
 *
 * @example
 * ```ts
 * const frame: QtFrame = { type: QtFrameType.IMAGE, description: 'this is image', data: jpeg };
 * ```
 */
export interface QtFrame {
  type: number;
  description: string | null;
  data: Buffer | null;
}

/** Options of {@link QtFrameDecoder}. */
export interface QtFrameDecoderOptions {
  /** Largest accepted `size` field (bytes after it); larger frames fail with `E_FRAME_TOO_LARGE`. Default 64 MiB. */
  maxFrameBytes?: number;
}

/** Default largest accepted frame: 64 MiB. */
export const DEFAULT_MAX_QT_FRAME_BYTES = 64 * 1024 * 1024;

const NULL_LENGTH = 0xffffffff;
const INT32_MAX = 0x7fffffff;
/** type + description length + data length: the smallest possible `size`. */
const MIN_FRAME_SIZE = 12;

/**
 * Serialises a string as QDataStream writes a QString: uint32 byte length (0xFFFFFFFF for
 * null) then UTF-16BE. Surrogate pairs (emoji) are written as their two code units.
 *
 * @example
 * ```ts
 * encodeQString('hi'); // <00 00 00 04 00 68 00 69>
 * encodeQString(null); // <ff ff ff ff>
 * ```
 */
export function encodeQString(value: string | null): Buffer {
  if (value === null) return Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const out = Buffer.allocUnsafe(4 + value.length * 2);
  out.writeUInt32BE(value.length * 2, 0);
  writeUtf16be(out, value, 4);
  return out;
}

/**
 * Reads a QString written by QDataStream from `bytes` at `offset`. Returns the string (or
 * `null` for a null QString) and the offset just after it. Throws `E_PROTOCOL` when the
 * length is odd or runs past the end of `bytes`.
 *
 * @example
 * ```ts
 * const { value, next } = decodeQString(header, 16); // value 'a.txt', next 30
 * ```
 */
export function decodeQString(bytes: Buffer, offset = 0): { value: string | null; next: number } {
  const length = readLength(bytes, offset, 'QString');
  if (length === NULL_LENGTH) return { value: null, next: offset + 4 };
  if (length % 2 !== 0) {
    throw new SynackError('E_PROTOCOL', `QString length ${length} at offset ${offset} is odd (UTF-16 needs an even byte count)`);
  }
  const start = offset + 4;
  if (start + length > bytes.length) {
    throw new SynackError(
      'E_PROTOCOL',
      `QString length ${length} at offset ${offset} runs past the end (${bytes.length - start} bytes left)`,
    );
  }
  return { value: readUtf16be(bytes, start, start + length), next: start + length };
}

/**
 * Serialises bytes as QDataStream writes a QByteArray: uint32 length (0xFFFFFFFF for null)
 * then the bytes.
 *
 * @example
 * ```ts
 * encodeQByteArray(Buffer.from('ok')); // <00 00 00 02 6f 6b>
 * ```
 */
export function encodeQByteArray(value: Buffer | null): Buffer {
  if (value === null) return Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const out = Buffer.allocUnsafe(4 + value.length);
  out.writeUInt32BE(value.length, 0);
  value.copy(out, 4);
  return out;
}

/**
 * Reads a QByteArray written by QDataStream from `bytes` at `offset`. The returned bytes are a
 * view into `bytes`, not a copy. Throws `E_PROTOCOL` when the length runs past the end.
 *
 * @example
 * ```ts
 * const { value, next } = decodeQByteArray(Buffer.from('000000026f6b', 'hex')); // <6f 6b>, 6
 * ```
 */
export function decodeQByteArray(bytes: Buffer, offset = 0): { value: Buffer | null; next: number } {
  const length = readLength(bytes, offset, 'QByteArray');
  if (length === NULL_LENGTH) return { value: null, next: offset + 4 };
  const start = offset + 4;
  if (start + length > bytes.length) {
    throw new SynackError(
      'E_PROTOCOL',
      `QByteArray length ${length} at offset ${offset} runs past the end (${bytes.length - start} bytes left)`,
    );
  }
  return { value: bytes.subarray(start, start + length), next: start + length };
}

/** The bytes a frame takes on the wire, its size field included. */
export function qtFrameWireSize(frame: QtFrame): number {
  return 4 + MIN_FRAME_SIZE + (frame.description === null ? 0 : frame.description.length * 2) + (frame.data === null ? 0 : frame.data.length);
}

/**
 * Encodes a frame exactly as a Qt peer does (`out << qint32(size) << sendStruct`): int32 size,
 * int32 type, QString description, QByteArray data. One allocation, one copy of `data`.
 *
 * @example
 * ```ts
 * socket.write(encodeQtFrame(textFrame('hello 你好'))); // the 60 bytes of text_frame.bin
 * ```
 */
export function encodeQtFrame(frame: QtFrame): Buffer {
  const size = checkedSize(frame);
  const out = Buffer.allocUnsafe(4 + size);
  const pos = writeHead(out, frame, size);
  frame.data?.copy(out, pos);
  return out;
}

/**
 * The bytes of an encoded frame before its data (size, type, description, data length), to show
 * or log a large frame's start without encoding its data again.
 *
 * @example
 * ```ts
 * Buffer.concat([encodeQtFrameHead(frame), frame.data ?? Buffer.alloc(0)]); // = encodeQtFrame(frame)
 * ```
 */
export function encodeQtFrameHead(frame: QtFrame): Buffer {
  const size = checkedSize(frame);
  const out = Buffer.allocUnsafe(4 + size - (frame.data?.length ?? 0));
  writeHead(out, frame, size);
  return out;
}

function checkedSize(frame: QtFrame): number {
  const { type } = frame;
  if (!Number.isInteger(type) || type < -0x80000000 || type > INT32_MAX) {
    throw new SynackError('E_USAGE', `qt frame type ${type} is not a 32-bit integer`);
  }
  const size = qtFrameWireSize(frame) - 4;
  if (size > INT32_MAX) {
    throw new SynackError('E_FRAME_TOO_LARGE', `qt frame of ${size} bytes does not fit the int32 size field`);
  }
  return size;
}

/** Writes size, type, description and the data's length; returns where the data goes. */
function writeHead(out: Buffer, { type, description, data }: QtFrame, size: number): number {
  out.writeInt32BE(size, 0);
  out.writeInt32BE(type, 4);
  let pos = 8;
  if (description === null) {
    out.writeUInt32BE(NULL_LENGTH, pos);
    pos += 4;
  } else {
    out.writeUInt32BE(description.length * 2, pos);
    pos = writeUtf16be(out, description, pos + 4);
  }
  out.writeUInt32BE(data === null ? NULL_LENGTH : data.length, pos);
  return pos + 4;
}

/**
 * Decodes exactly one complete frame (with its leading size field), validating it like
 * {@link QtFrameDecoder}. Bytes after the frame are an `E_PROTOCOL` error.
 *
 * @example
 * ```ts
 * decodeQtFrame(CLIENT_HEARTBEAT).type; // 100
 * ```
 */
export function decodeQtFrame(bytes: Buffer, options: QtFrameDecoderOptions = {}): QtFrame {
  const decoder = new QtFrameDecoder(options);
  const frames = decoder.push(bytes);
  if (frames.length !== 1 || frames[0] === undefined || decoder.bufferedBytes !== 0) {
    throw new SynackError(
      'E_PROTOCOL',
      `expected exactly one complete qt frame in ${bytes.length} bytes, got ${frames.length} and ${decoder.bufferedBytes} bytes left over`,
    );
  }
  return frames[0];
}

/**
 * A type 1 text frame as the seed client sends it: description "this is text", data = the
 * text serialised as a QString.
 *
 * @example
 * ```ts
 * socket.write(encodeQtFrame(textFrame('hello 你好')));
 * ```
 */
export function textFrame(text: string): QtFrame {
  return { type: QtFrameType.TEXT, description: 'this is text', data: encodeQString(text) };
}

/**
 * An image (type 2) or video (type 3) frame carrying JPEG bytes as they are (not copied).
 * The description defaults to what the seed client sends: "this is image" or
 * "this is video image".
 *
 * @example
 * ```ts
 * socket.write(encodeQtFrame(mediaFrame(QtFrameType.IMAGE, await readFile('shot.jpg'))));
 * ```
 */
export function mediaFrame(
  type: typeof QtFrameType.IMAGE | typeof QtFrameType.VIDEO,
  bytes: Buffer,
  description: string | null = type === QtFrameType.IMAGE ? 'this is image' : 'this is video image',
): QtFrame {
  return { type, description, data: bytes };
}

/**
 * The text inside a type 1 frame (the QString serialised in its data), or `null` when the
 * frame is not text or carries a null string. Trailing bytes after the QString are ignored,
 * as Qt does; a truncated or odd-length QString throws `E_PROTOCOL`.
 *
 * @example
 * ```ts
 * for (const frame of decoder.push(chunk)) console.log(frameText(frame) ?? `<${frame.type}>`);
 * ```
 */
export function frameText(frame: QtFrame): string | null {
  if (frame.type !== QtFrameType.TEXT || frame.data === null) return null;
  if (frame.data.length === 0) return '';
  return decodeQString(frame.data, 0).value;
}

/**
 * Whether a frame is a heartbeat (type 100). Any heartbeat counts as a pong.
 *
 * @example
 * ```ts
 * if (frames.some(isHeartbeat)) lastPongAt = Date.now();
 * ```
 */
export function isHeartbeat(frame: QtFrame): boolean {
  return frame.type === QtFrameType.HEARTBEAT;
}

/**
 * The heartbeat a seed client sends every 3 s: type 100, description
 * "This is a heartbeat msg to server.", data = an empty QString (`00 00 00 00`).
 * Byte-identical to `client_heartbeat.bin`. Shared: do not mutate.
 *
 * @example
 * ```ts
 * socket.write(CLIENT_HEARTBEAT);
 * ```
 */
export const CLIENT_HEARTBEAT: Buffer = encodeQtFrame({
  type: QtFrameType.HEARTBEAT,
  description: 'This is a heartbeat msg to server.',
  data: Buffer.from([0, 0, 0, 0]),
});

/**
 * The seed server's answer to a heartbeat: type 100, description
 * "This is a message of heartbeat from server.", data = `00 00 00 01 00` (a C string with
 * its NUL). Byte-identical to `server_heartbeat_reply.bin`. Shared: do not mutate.
 *
 * @example
 * ```ts
 * if (frames.some(isHeartbeat)) socket.write(SERVER_HEARTBEAT_REPLY);
 * ```
 */
export const SERVER_HEARTBEAT_REPLY: Buffer = encodeQtFrame({
  type: QtFrameType.HEARTBEAT,
  description: 'This is a message of heartbeat from server.',
  data: Buffer.from([0, 0, 0, 1, 0]),
});

/**
 * Incremental decoder for one connection's stream of Qt frames. Feed it every `data` chunk;
 * it returns the batch of frames the chunk completed and keeps any partial frame.
 *
 * - A partial frame is kept as views of the chunks it arrived in and joined once, when it
 *   completes; frames wholly inside one chunk are parsed in place. Decoding is linear.
 * - `data` of a returned frame may be a view into a pushed chunk: do not reuse chunks.
 * - A declared size above `maxFrameBytes` throws `E_FRAME_TOO_LARGE` as soon as the size
 *   field is read, before anything is buffered for it; a malformed frame throws `E_PROTOCOL`.
 *   After a throw the decoder is dead: every later `push` throws the same error.
 *
 * @example
 * ```ts
 * const decoder = new QtFrameDecoder({ maxFrameBytes: 8 * 1024 * 1024 });
 * socket.on('data', (chunk) => {
 *   try { actor.send({ type: 'SOCKET.FRAMES', frames: decoder.push(chunk) }); }
 *   catch (err) { socket.destroy(err as Error); }
 * });
 * ```
 */
export class QtFrameDecoder {
  readonly maxFrameBytes: number;
  readonly #header = Buffer.alloc(4);
  #headerFill = 0;
  /** Declared size of the frame being read, or -1 while its size field is incomplete. */
  #size = -1;
  #parts: Buffer[] = [];
  #partsBytes = 0;
  /** Stream offset of the current frame's size field, for error messages. */
  #frameOffset = 0;
  #error: SynackError | null = null;

  constructor(options: QtFrameDecoderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_QT_FRAME_BYTES;
    if (!Number.isSafeInteger(max) || max < MIN_FRAME_SIZE) {
      throw new SynackError('E_USAGE', `maxFrameBytes must be an integer of at least ${MIN_FRAME_SIZE}, got ${max}`);
    }
    this.maxFrameBytes = max;
  }

  /** Bytes received for the frame not yet complete, its size field included. */
  get bufferedBytes(): number {
    return this.#size < 0 ? this.#headerFill : 4 + this.#partsBytes;
  }

  /** The error that killed this decoder, if any. */
  get error(): SynackError | null {
    return this.#error;
  }

  /**
   * Decodes a whole chunk and returns the frames it completed (possibly none). Frames are
   * also appended to `out` when given, so a caller keeps the frames that preceded a bad one
   * in the same chunk when `push` throws.
   */
  push(chunk: Buffer, out: QtFrame[] = []): QtFrame[] {
    if (this.#error) throw this.#error;
    try {
      this.#decode(chunk, out);
    } catch (error) {
      this.#error = SynackError.from(error);
      this.#parts = [];
      this.#partsBytes = 0;
      this.#headerFill = 0;
      this.#size = -1;
      throw this.#error;
    }
    return out;
  }

  #decode(chunk: Buffer, out: QtFrame[]): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.#size < 0) {
        if (this.#headerFill === 0 && end - pos >= 4) {
          this.#size = this.#checkSize(chunk.readInt32BE(pos));
          pos += 4;
        } else {
          const take = Math.min(4 - this.#headerFill, end - pos);
          chunk.copy(this.#header, this.#headerFill, pos, pos + take);
          this.#headerFill += take;
          pos += take;
          if (this.#headerFill < 4) return;
          this.#headerFill = 0;
          this.#size = this.#checkSize(this.#header.readInt32BE(0));
        }
      }
      const size = this.#size;
      const available = end - pos;
      let body: Buffer;
      if (this.#partsBytes === 0 && available >= size) {
        body = chunk.subarray(pos, pos + size);
        pos += size;
      } else if (this.#partsBytes + available >= size) {
        const need = size - this.#partsBytes;
        this.#parts.push(chunk.subarray(pos, pos + need));
        body = Buffer.concat(this.#parts, size);
        this.#parts = [];
        this.#partsBytes = 0;
        pos += need;
      } else {
        this.#parts.push(pos === 0 ? chunk : chunk.subarray(pos));
        this.#partsBytes += available;
        return;
      }
      out.push(this.#parseBody(body));
      this.#size = -1;
      this.#frameOffset += 4 + size;
    }
  }

  #checkSize(size: number): number {
    const where = `(frame at stream offset ${this.#frameOffset})`;
    if (size < 0) throw new SynackError('E_PROTOCOL', `qt frame declares a negative size (${size}) ${where}`);
    if (size > this.maxFrameBytes) {
      throw new SynackError(
        'E_FRAME_TOO_LARGE',
        `qt frame declares ${size} bytes, more than --max-frame ${this.maxFrameBytes} ${where}`,
      );
    }
    if (size < MIN_FRAME_SIZE) {
      throw new SynackError(
        'E_PROTOCOL',
        `qt frame declares ${size} bytes, fewer than the ${MIN_FRAME_SIZE} a type and two lengths need ${where}`,
      );
    }
    return size;
  }

  /** `body` is exactly `size` (>= 12) bytes: type, description, data. */
  #parseBody(body: Buffer): QtFrame {
    const size = body.length;
    const where = `(frame at stream offset ${this.#frameOffset})`;
    const type = body.readInt32BE(0);
    let pos = 8;
    let description: string | null = null;
    const descriptionLength = body.readUInt32BE(4);
    if (descriptionLength !== NULL_LENGTH) {
      if (descriptionLength % 2 !== 0) {
        throw new SynackError(
          'E_PROTOCOL',
          `qt frame description length ${descriptionLength} is odd (UTF-16 needs an even byte count) ${where}`,
        );
      }
      if (pos + descriptionLength + 4 > size) {
        throw new SynackError(
          'E_PROTOCOL',
          `qt frame description length ${descriptionLength} does not fit in the ${size}-byte frame ${where}`,
        );
      }
      description = readUtf16be(body, pos, pos + descriptionLength);
      pos += descriptionLength;
    }
    const dataLength = body.readUInt32BE(pos);
    pos += 4;
    let data: Buffer | null = null;
    if (dataLength === NULL_LENGTH) {
      if (pos !== size) {
        throw new SynackError(
          'E_PROTOCOL',
          `qt frame has null data but ${size - pos} bytes left over in the ${size}-byte frame ${where}`,
        );
      }
    } else {
      if (pos + dataLength > size) {
        throw new SynackError(
          'E_PROTOCOL',
          `qt frame data length ${dataLength} does not fit in the ${size}-byte frame (${size - pos} bytes left) ${where}`,
        );
      }
      if (pos + dataLength < size) {
        throw new SynackError(
          'E_PROTOCOL',
          `qt frame inner lengths add up to ${pos + dataLength} bytes but its size says ${size} ${where}`,
        );
      }
      data = body.subarray(pos, size);
    }
    return { type, description, data };
  }
}

function readLength(bytes: Buffer, offset: number, what: string): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + 4 > bytes.length) {
    throw new SynackError('E_PROTOCOL', `${what} length at offset ${offset} runs past the end of ${bytes.length} bytes`);
  }
  return bytes.readUInt32BE(offset);
}

/** Writes `value` as UTF-16BE at `offset` (room must exist); returns the offset after it. */
function writeUtf16be(out: Buffer, value: string, offset: number): number {
  const end = offset + value.length * 2;
  out.write(value, offset, 'utf16le');
  out.subarray(offset, end).swap16();
  return end;
}

/** Decodes UTF-16BE without touching `bytes`; lone surrogates survive, as in QString. */
function readUtf16be(bytes: Buffer, start: number, end: number): string {
  if (end - start <= 64) {
    let text = '';
    for (let i = start; i < end; i += 2) text += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
    return text;
  }
  const copy = Buffer.from(bytes.subarray(start, end));
  return copy.swap16().toString('utf16le');
}
