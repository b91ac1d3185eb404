import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SynackError } from '../../src/errors.js';
import {
  CLIENT_HEARTBEAT,
  DEFAULT_MAX_QT_FRAME_BYTES,
  QtFrameDecoder,
  QtFrameType,
  SERVER_HEARTBEAT_REPLY,
  decodeQByteArray,
  decodeQString,
  decodeQtFrame,
  encodeQByteArray,
  encodeQString,
  encodeQtFrame,
  encodeQtFrameHead,
  frameText,
  isHeartbeat,
  mediaFrame,
  qtFrameWireSize,
  textFrame,
  type QtFrame,
} from '../../src/transport/qt-frame.js';

const vector = (name: string): Buffer => readFileSync(new URL(`../vectors/${name}`, import.meta.url));
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** A frame header (size + type) followed by raw body bytes, for hand-made malformed frames. */
function rawFrame(size: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(size, 0);
  return Buffer.concat([head, body]);
}

function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, i * 4));
  return out;
}

function decodeAll(chunks: Buffer[], decoder = new QtFrameDecoder()): QtFrame[] {
  const frames: QtFrame[] = [];
  for (const chunk of chunks) frames.push(...decoder.push(chunk));
  expect(decoder.bufferedBytes).toBe(0);
  return frames;
}

function catchError(fn: () => unknown): SynackError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SynackError);
    return error as SynackError;
  }
  throw new Error('expected a throw');
}

/** mulberry32: small deterministic PRNG so the fuzz loop is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('qt frame', () => {
  describe('wire vectors from real Qt peers', () => {
    it('knows the wire size of each decoded vector, size field included', () => {
      for (const name of ['text_frame.bin', 'relayed_text_frame.bin', 'client_heartbeat.bin', 'server_heartbeat_reply.bin']) {
        const bytes = vector(name);
        expect(qtFrameWireSize(decodeQtFrame(bytes)), name).toBe(bytes.length);
      }
      expect(qtFrameWireSize({ type: 1, description: null, data: null })).toBe(16);
    });

    it('decodes text_frame.bin to "hello 你好" and re-encodes it to the same bytes', () => {
      const bytes = vector('text_frame.bin');
      expect(bytes.length).toBe(60);
      const frame = decodeQtFrame(bytes);
      expect(frame.type).toBe(QtFrameType.TEXT);
      expect(frame.description).toBe('this is text');
      expect(frame.data).toEqual(hex('00000010 00680065006c006c006f00204f60597d'));
      expect(frameText(frame)).toBe('hello 你好');
      expect(encodeQtFrame(frame).equals(bytes)).toBe(true);
      expect(encodeQtFrame(textFrame('hello 你好')).equals(bytes)).toBe(true);
    });

    it('decodes relayed_text_frame.bin (as the seed server relays it) to the same text frame', () => {
      const bytes = vector('relayed_text_frame.bin');
      const frame = decodeQtFrame(bytes);
      expect(frame).toMatchObject({ type: 1, description: 'this is text' });
      expect(frameText(frame)).toBe('hello 你好');
      expect(encodeQtFrame(frame).equals(bytes)).toBe(true);
      expect(bytes.equals(vector('text_frame.bin'))).toBe(true);
    });

    it('decodes client_heartbeat.bin and CLIENT_HEARTBEAT is byte-identical to it', () => {
      const bytes = vector('client_heartbeat.bin');
      expect(bytes.length).toBe(88);
      const frame = decodeQtFrame(bytes);
      expect(frame.type).toBe(QtFrameType.HEARTBEAT);
      expect(frame.description).toBe('This is a heartbeat msg to server.');
      expect(frame.data).toEqual(hex('00000000'));
      expect(isHeartbeat(frame)).toBe(true);
      expect(encodeQtFrame(frame).equals(bytes)).toBe(true);
      expect(CLIENT_HEARTBEAT.equals(bytes)).toBe(true);
    });

    it('decodes server_heartbeat_reply.bin and SERVER_HEARTBEAT_REPLY is byte-identical to it', () => {
      const bytes = vector('server_heartbeat_reply.bin');
      expect(bytes.length).toBe(107);
      const frame = decodeQtFrame(bytes);
      expect(frame.type).toBe(QtFrameType.HEARTBEAT);
      expect(frame.description).toBe('This is a message of heartbeat from server.');
      expect(frame.data).toEqual(hex('0000000100'));
      expect(isHeartbeat(frame)).toBe(true);
      expect(encodeQtFrame(frame).equals(bytes)).toBe(true);
      expect(SERVER_HEARTBEAT_REPLY.equals(bytes)).toBe(true);
    });
  });

  describe('decoder', () => {
    const stream = Buffer.concat([
      vector('text_frame.bin'),
      vector('client_heartbeat.bin'),
      vector('server_heartbeat_reply.bin'),
      vector('relayed_text_frame.bin'),
    ]);
    const expected = [
      decodeQtFrame(vector('text_frame.bin')),
      decodeQtFrame(vector('client_heartbeat.bin')),
      decodeQtFrame(vector('server_heartbeat_reply.bin')),
      decodeQtFrame(vector('relayed_text_frame.bin')),
    ];

    it('decodes a frame split across chunks at every byte offset', () => {
      for (const name of ['text_frame.bin', 'client_heartbeat.bin', 'server_heartbeat_reply.bin']) {
        const bytes = vector(name);
        for (let cut = 0; cut < bytes.length; cut++) {
          const decoder = new QtFrameDecoder();
          expect(decoder.push(bytes.subarray(0, cut))).toEqual([]);
          expect(decoder.bufferedBytes).toBe(cut);
          expect(decoder.push(bytes.subarray(cut))).toEqual([decodeQtFrame(bytes)]);
          expect(decoder.bufferedBytes).toBe(0);
        }
      }
    });

    it('decodes a stream of frames split at every pair of offsets', () => {
      for (let a = 0; a <= stream.length; a += 5) {
        for (let b = a; b <= stream.length; b += 11) {
          const frames = decodeAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
          expect(frames).toEqual(expected);
        }
      }
    });

    it('decodes a stream fed one byte at a time', () => {
      const chunks = [...stream].map((byte) => Buffer.from([byte]));
      expect(decodeAll(chunks)).toEqual(expected);
    });

    it('decodes many frames in one chunk and returns them as one batch', () => {
      const frames: QtFrame[] = Array.from({ length: 500 }, (_, i) => ({
        type: i % 4 === 3 ? 100 : (i % 3) + 1,
        description: `frame ${i}`,
        data: Buffer.from(`payload ${i}`),
      }));
      const decoded = new QtFrameDecoder().push(Buffer.concat(frames.map(encodeQtFrame)));
      expect(decoded).toEqual(frames);
    });

    it('keeps a partial frame after complete ones in the same chunk', () => {
      const decoder = new QtFrameDecoder();
      const text = vector('text_frame.bin');
      expect(decoder.push(Buffer.concat([text, text.subarray(0, 10)]))).toHaveLength(1);
      expect(decoder.bufferedBytes).toBe(10);
      expect(decoder.push(text.subarray(10))).toHaveLength(1);
      expect(decoder.bufferedBytes).toBe(0);
    });

    it('returns no frames and holds nothing for an empty chunk', () => {
      const decoder = new QtFrameDecoder();
      expect(decoder.push(Buffer.alloc(0))).toEqual([]);
      expect(decoder.bufferedBytes).toBe(0);
    });

    it('keeps parse state per instance, so two connections never mix bytes', () => {
      const text = vector('text_frame.bin');
      const beat = vector('client_heartbeat.bin');
      const a = new QtFrameDecoder();
      const b = new QtFrameDecoder();
      expect(a.push(text.subarray(0, 30))).toEqual([]);
      expect(b.push(beat.subarray(0, 50))).toEqual([]);
      expect(a.push(text.subarray(30))).toEqual([decodeQtFrame(text)]);
      expect(b.push(beat.subarray(50))).toEqual([decodeQtFrame(beat)]);
    });

    it('parses whole frames in place, without Buffer.concat, when a chunk has no leftover', () => {
      const frame = encodeQtFrame({ type: 1, description: 'abcd', data: Buffer.alloc(40, 7) });
      expect(frame.length).toBe(64);
      const chunk = Buffer.concat(Array.from({ length: 20_000 }, () => frame));
      const concat = vi.spyOn(Buffer, 'concat');
      const started = performance.now();
      const frames = new QtFrameDecoder().push(chunk);
      const elapsed = performance.now() - started;
      expect(frames).toHaveLength(20_000);
      expect(concat).not.toHaveBeenCalled();
      expect(frames[19_999]!.data!.buffer).toBe(chunk.buffer);
      expect(elapsed).toBeLessThan(500);
    });

    it('joins a frame split into many small chunks only once', () => {
      const frame = encodeQtFrame(mediaFrame(QtFrameType.IMAGE, Buffer.alloc(100_000, 1)));
      const decoder = new QtFrameDecoder();
      const concat = vi.spyOn(Buffer, 'concat');
      const frames: QtFrame[] = [];
      for (let pos = 0; pos < frame.length; pos += 1000) frames.push(...decoder.push(frame.subarray(pos, pos + 1000)));
      expect(frames).toHaveLength(1);
      expect(frames[0]!.data!.length).toBe(100_000);
      expect(concat).toHaveBeenCalledTimes(1);
    });

    it('also appends frames to a caller-given array, keeping those before a bad frame', () => {
      const out: QtFrame[] = [];
      const decoder = new QtFrameDecoder();
      const bad = rawFrame(-1, Buffer.alloc(0));
      expect(() => decoder.push(Buffer.concat([vector('text_frame.bin'), bad]), out)).toThrow(SynackError);
      expect(out).toHaveLength(1);
      expect(frameText(out[0]!)).toBe('hello 你好');
    });
  });

  describe('strings and byte arrays', () => {
    it('keeps null and empty apart in description and data', () => {
      const cases: QtFrame[] = [
        { type: 1, description: null, data: null },
        { type: 1, description: '', data: Buffer.alloc(0) },
        { type: 1, description: null, data: Buffer.alloc(0) },
        { type: 1, description: '', data: null },
      ];
      for (const frame of cases) {
        const bytes = encodeQtFrame(frame);
        expect(bytes.length).toBe(16);
        expect(decodeQtFrame(bytes)).toEqual(frame);
      }
      expect(encodeQtFrame(cases[0]!)).toEqual(hex('0000000c 00000001 ffffffff ffffffff'));
      expect(encodeQtFrame(cases[1]!)).toEqual(hex('0000000c 00000001 00000000 00000000'));
      expect(encodeQString(null)).toEqual(hex('ffffffff'));
      expect(encodeQString('')).toEqual(hex('00000000'));
      expect(decodeQString(hex('ffffffff'))).toEqual({ value: null, next: 4 });
      expect(decodeQString(hex('00000000'))).toEqual({ value: '', next: 4 });
      expect(encodeQByteArray(null)).toEqual(hex('ffffffff'));
      expect(decodeQByteArray(hex('ffffffff'))).toEqual({ value: null, next: 4 });
      expect(decodeQByteArray(hex('00000000'))).toEqual({ value: Buffer.alloc(0), next: 4 });
    });

    it('round-trips emoji and other non-BMP characters as surrogate pairs', () => {
      const text = 'hi 😀 𝄞 𠀀 👩‍👩‍👧 é';
      const encoded = encodeQString(text);
      expect(encoded.readUInt32BE(0)).toBe(text.length * 2);
      expect(encodeQString('😀')).toEqual(hex('00000004 d83dde00'));
      expect(decodeQString(encoded).value).toBe(text);
      expect(decodeQString(encodeQString(text.repeat(10))).value).toBe(text.repeat(10));
      const frame = decodeQtFrame(encodeQtFrame({ ...textFrame(text), description: '📷 𝕏' }));
      expect(frameText(frame)).toBe(text);
      expect(frame.description).toBe('📷 𝕏');
    });

    it('round-trips lone surrogates as a QString can hold them', () => {
      const text = 'a\uD800b\uDC00';
      expect(decodeQString(encodeQString(text)).value).toBe(text);
      expect(decodeQString(encodeQString(text.repeat(40))).value).toBe(text.repeat(40));
    });

    it('reads a QString at an offset and says where the next field starts', () => {
      const header = vector('file_header_a_txt.bin');
      expect(decodeQString(header, 16)).toEqual({ value: 'a.txt', next: 30 });
      expect(decodeQByteArray(hex('aa 00000002 6f6b bb'), 1)).toEqual({ value: Buffer.from('ok'), next: 7 });
      expect(encodeQByteArray(Buffer.from('ok'))).toEqual(hex('00000002 6f6b'));
    });

    it('rejects a truncated or odd-length QString with E_PROTOCOL', () => {
      expect(catchError(() => decodeQString(hex('000000')))).toMatchObject({ code: 'E_PROTOCOL' });
      expect(catchError(() => decodeQString(hex('00000004 0068')))).toMatchObject({ code: 'E_PROTOCOL' });
      expect(catchError(() => decodeQString(hex('00000003 006869'))).message).toMatch(/odd/);
      expect(catchError(() => decodeQByteArray(hex('00000004 00')))).toMatchObject({ code: 'E_PROTOCOL' });
    });
  });

  describe('builders', () => {
    it('builds image and video frames with the descriptions the seed client sends', () => {
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
      expect(mediaFrame(QtFrameType.IMAGE, jpeg)).toEqual({ type: 2, description: 'this is image', data: jpeg });
      expect(mediaFrame(QtFrameType.VIDEO, jpeg)).toEqual({ type: 3, description: 'this is video image', data: jpeg });
      expect(mediaFrame(QtFrameType.IMAGE, jpeg, 'cam 1').description).toBe('cam 1');
      const decoded = decodeQtFrame(encodeQtFrame(mediaFrame(QtFrameType.VIDEO, jpeg)));
      expect(decoded.data).toEqual(jpeg);
      expect(frameText(decoded)).toBeNull();
    });

    it('reads text only from type 1 frames', () => {
      expect(frameText({ type: 1, description: 'this is text', data: encodeQString(null) })).toBeNull();
      expect(frameText({ type: 1, description: 'this is text', data: null })).toBeNull();
      expect(frameText({ type: 1, description: 'this is text', data: Buffer.alloc(0) })).toBe('');
      expect(frameText({ type: 100, description: null, data: encodeQString('x') })).toBeNull();
      expect(catchError(() => frameText({ type: 1, description: null, data: hex('00000008 0068') })).code).toBe(
        'E_PROTOCOL',
      );
    });

    it('counts any type 100 frame as a heartbeat', () => {
      expect(isHeartbeat({ type: 100, description: null, data: null })).toBe(true);
      expect(isHeartbeat(textFrame('100'))).toBe(false);
    });

    it('encodes the head of a frame as the bytes of its encoding before the data', () => {
      const frames: QtFrame[] = [
        textFrame('hello 你好'),
        mediaFrame(QtFrameType.IMAGE, Buffer.alloc(3000, 7)),
        { type: 100, description: null, data: null },
        { type: 2, description: '', data: Buffer.alloc(0) },
      ];
      for (const frame of frames) {
        const wire = encodeQtFrame(frame);
        const head = encodeQtFrameHead(frame);
        expect(head).toEqual(wire.subarray(0, wire.length - (frame.data?.length ?? 0)));
        expect(head.length + (frame.data?.length ?? 0)).toBe(qtFrameWireSize(frame));
      }
    });

    it('refuses to encode a type that is not a 32-bit integer', () => {
      expect(catchError(() => encodeQtFrame({ type: 2 ** 31, description: null, data: null })).code).toBe('E_USAGE');
      expect(catchError(() => encodeQtFrame({ type: 1.5, description: null, data: null })).code).toBe('E_USAGE');
      expect(decodeQtFrame(encodeQtFrame({ type: -7, description: null, data: null })).type).toBe(-7);
    });
  });

  describe('validation', () => {
    it('rejects a size above --max-frame as soon as the size field is seen, buffering nothing', () => {
      const decoder = new QtFrameDecoder();
      expect(decoder.maxFrameBytes).toBe(DEFAULT_MAX_QT_FRAME_BYTES);
      expect(decoder.push(hex('7fff'))).toEqual([]);
      const error = catchError(() => decoder.push(Buffer.concat([hex('ffff'), Buffer.alloc(1000)])));
      expect(error.code).toBe('E_FRAME_TOO_LARGE');
      expect(error.message).toContain('qt frame declares 2147483647 bytes, more than --max-frame 67108864');
      expect(decoder.bufferedBytes).toBe(0);
    });

    it('honours a smaller maxFrameBytes and accepts a frame exactly at the limit', () => {
      const frame = encodeQtFrame({ type: 2, description: null, data: Buffer.alloc(88) });
      expect(new QtFrameDecoder({ maxFrameBytes: 100 }).push(frame)).toHaveLength(1);
      const error = catchError(() => new QtFrameDecoder({ maxFrameBytes: 99 }).push(frame.subarray(0, 4)));
      expect(error.code).toBe('E_FRAME_TOO_LARGE');
      expect(error.message).toContain('qt frame declares 100 bytes, more than --max-frame 99');
    });

    it('holds only the bytes received for a large frame that is allowed', () => {
      const decoder = new QtFrameDecoder();
      decoder.push(Buffer.concat([u32(DEFAULT_MAX_QT_FRAME_BYTES), Buffer.alloc(16)]));
      expect(decoder.bufferedBytes).toBe(20);
    });

    it('rejects a bad maxFrameBytes option', () => {
      expect(catchError(() => new QtFrameDecoder({ maxFrameBytes: 0 })).code).toBe('E_USAGE');
      expect(catchError(() => new QtFrameDecoder({ maxFrameBytes: Number.NaN })).code).toBe('E_USAGE');
    });

    const malformed: Array<[string, Buffer, RegExp]> = [
      ['a negative size', rawFrame(-1, Buffer.alloc(0)), /negative size \(-1\)/],
      ['a size too small for type and two lengths', rawFrame(8, u32(1, 0)), /declares 8 bytes, fewer than the 12/],
      ['an odd description length', rawFrame(15, Buffer.concat([u32(1, 3), hex('006800'), u32(0)])), /description length 3 is odd/],
      ['a description that does not fit', rawFrame(12, u32(1, 2, 0)), /description length 2 does not fit in the 12-byte frame/],
      ['data that does not fit', rawFrame(12, u32(1, 0, 1)), /data length 1 does not fit in the 12-byte frame/],
      ['lengths that add up to less than size', rawFrame(14, Buffer.concat([u32(1, 0, 1), hex('aabb')])), /add up to 13 bytes but its size says 14/],
      ['null data with bytes left over', rawFrame(13, Buffer.concat([u32(1, 0, 0xffffffff), hex('aa')])), /null data but 1 bytes left over/],
    ];
    for (const [what, bytes, message] of malformed) {
      it(`rejects ${what} with E_PROTOCOL`, () => {
        const decoder = new QtFrameDecoder();
        const error = catchError(() => decoder.push(bytes));
        expect(error.code).toBe('E_PROTOCOL');
        expect(error.message).toMatch(message);
        expect(decoder.bufferedBytes).toBe(0);
      });
    }

    it('stays dead after an error and throws the same error again', () => {
      const decoder = new QtFrameDecoder();
      const error = catchError(() => decoder.push(rawFrame(4, Buffer.alloc(0))));
      expect(decoder.error).toBe(error);
      expect(catchError(() => decoder.push(vector('text_frame.bin')))).toBe(error);
      expect(catchError(() => decoder.push(Buffer.alloc(0)))).toBe(error);
    });

    it('says where in the stream the bad frame started', () => {
      const decoder = new QtFrameDecoder();
      const error = catchError(() => decoder.push(Buffer.concat([vector('text_frame.bin'), rawFrame(-5, Buffer.alloc(0))])));
      expect(error.message).toContain('stream offset 60');
    });
  });

  describe('fuzz', () => {
    it('round-trips random frames through random chunkings', () => {
      const random = prng(0x5eed001);
      const int = (n: number) => Math.floor(random() * n);
      const alphabet = ['a', 'Z', ' ', '你', '好', 'é', '😀', '𝄞', '\u0000', '\uFFFF'];
      const randomString = (): string | null => {
        if (int(8) === 0) return null;
        return Array.from({ length: int(20) }, () => alphabet[int(alphabet.length)]).join('');
      };
      const randomBytes = (): Buffer | null => {
        if (int(8) === 0) return null;
        const out = Buffer.alloc(int(6) === 0 ? int(3000) : int(64));
        for (let i = 0; i < out.length; i++) out[i] = int(256);
        return out;
      };
      for (let round = 0; round < 40; round++) {
        const frames: QtFrame[] = Array.from({ length: 1 + int(30) }, () => {
          const kind = int(5);
          if (kind === 0) return textFrame(randomString() ?? '');
          return { type: [1, 2, 3, 100, -1, 7][int(6)]!, description: randomString(), data: randomBytes() };
        });
        const stream = Buffer.concat(frames.map(encodeQtFrame));
        const chunks: Buffer[] = [];
        for (let pos = 0; pos < stream.length; ) {
          const len = int(4) === 0 ? int(4) : int(300);
          chunks.push(stream.subarray(pos, pos + len));
          pos += len;
        }
        const decoded = decodeAll(chunks);
        expect(decoded).toEqual(frames);
        expect(Buffer.concat(decoded.map(encodeQtFrame)).equals(stream)).toBe(true);
      }
    });
  });
});
