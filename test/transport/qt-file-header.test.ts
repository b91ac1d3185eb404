import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SynackError } from '../../src/errors.js';
import {
  encodeFileHeader,
  FileHeaderDecoder,
  type FileHeaderDecoderOptions,
} from '../../src/transport/qt-file-header.js';

const vector = readFileSync(new URL('../vectors/file_header_a_txt.bin', import.meta.url));

/** Builds a header by hand: the two int64s, then a raw QString length and payload. */
function rawHeader(total: bigint, nameSize: bigint, nameLength?: number, payload = Buffer.alloc(0)): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeBigInt64BE(total, 0);
  fixed.writeBigInt64BE(nameSize, 8);
  if (nameLength === undefined) return fixed;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(nameLength, 0);
  return Buffer.concat([fixed, length, payload]);
}

function decodeError(bytes: Buffer, options?: FileHeaderDecoderOptions): SynackError {
  try {
    new FileHeaderDecoder(options).push(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(SynackError);
    return error as SynackError;
  }
  throw new Error('expected the decoder to throw');
}

describe('qt file header', () => {
  it('decodes the header captured from a Qt sender', () => {
    const result = new FileHeaderDecoder().push(vector);
    expect(result).not.toBeNull();
    expect(result!.header).toEqual({
      totalBytes: 35,
      nameSize: 14,
      fileName: 'a.txt',
      headerBytes: 30,
      fileBytes: 5,
    });
    expect(result!.rest.toString('latin1')).toBe('hello');
  });

  it('encodes exactly the bytes a Qt sender writes', () => {
    expect(encodeFileHeader('a.txt', 5)).toEqual(vector.subarray(0, 30));
    expect(encodeFileHeader('a.txt', 5n)).toEqual(vector.subarray(0, 30));
  });

  it('decodes the header however the stream is split', () => {
    for (let cut = 0; cut <= vector.length; cut++) {
      const decoder = new FileHeaderDecoder();
      const first = decoder.push(vector.subarray(0, cut));
      const result = first ?? decoder.push(vector.subarray(cut));
      if (cut < 30) expect(first, `cut at ${cut}`).toBeNull();
      expect(result?.header.fileName, `cut at ${cut}`).toBe('a.txt');
      const rest = first ? Buffer.concat([first.rest, vector.subarray(cut)]) : result!.rest;
      expect(rest.toString('latin1'), `cut at ${cut}`).toBe('hello');
    }
  });

  it('decodes the header fed one byte at a time', () => {
    const decoder = new FileHeaderDecoder();
    const results = [...vector.subarray(0, 30)].map((byte) => decoder.push(Buffer.from([byte])));
    expect(results.slice(0, 29).every((result) => result === null)).toBe(true);
    expect(results[29]?.header.fileName).toBe('a.txt');
    expect(results[29]?.rest.length).toBe(0);
    expect(decoder.done).toBe(true);
  });

  it('round-trips non-ASCII and emoji names, surrogate pairs included', () => {
    const names = ['报告 2024.txt', 'naïve café.md', '😀 party 🎉.png', '👨‍👩‍👧.jpg', 'lone \ud800 half'];
    for (const name of names) {
      const header = encodeFileHeader(name, 1234);
      const result = new FileHeaderDecoder().push(header);
      expect(result?.header.fileName).toBe(name);
      expect(result?.header.nameSize).toBe(4 + name.length * 2);
      expect(result?.header.totalBytes).toBe(header.length + 1234);
      expect(result?.header.fileBytes).toBe(1234);
    }
    expect(encodeFileHeader('😀', 0).subarray(16)).toEqual(Buffer.from([0, 0, 0, 4, 0xd8, 0x3d, 0xde, 0x00]));
  });

  it('encodes an empty file and very large sizes given as bigint', () => {
    expect(encodeFileHeader('x', 0).readBigInt64BE(0)).toBe(22n);
    expect(encodeFileHeader('x', 2n ** 40n).readBigInt64BE(0)).toBe(2n ** 40n + 22n);
  });

  it('refuses file sizes the wire cannot carry', () => {
    expect(() => encodeFileHeader('x', -1)).toThrow(RangeError);
    expect(() => encodeFileHeader('x', 1.5)).toThrow(RangeError);
    expect(() => encodeFileHeader('x', 2n ** 63n)).toThrow(RangeError);
  });

  it('rejects a negative total size', () => {
    const error = decodeError(rawHeader(-1n, 14n));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/total size is negative/);
  });

  it('rejects a name size too small to hold a QString', () => {
    for (const nameSize of [-1n, 0n, 3n]) {
      const error = decodeError(rawHeader(35n, nameSize));
      expect(error.code).toBe('E_PROTOCOL');
      expect(error.message).toMatch(/too small for a QString/);
    }
  });

  it('rejects a name size that does not match the QString length', () => {
    const error = decodeError(rawHeader(35n, 14n, 8));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/name size field says 14 bytes but the file name takes 12/);
  });

  it('rejects an odd QString length', () => {
    const error = decodeError(rawHeader(35n, 13n, 9));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/odd number/);
  });

  it('rejects a null QString', () => {
    const error = decodeError(rawHeader(35n, 14n, 0xffffffff));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/null QString/);
  });

  it('rejects a total smaller than the header', () => {
    const error = decodeError(rawHeader(29n, 14n));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/smaller than the header itself \(30 bytes\)/);
  });

  it('rejects an overlong name from the sizes alone, before it arrives', () => {
    const error = decodeError(rawHeader(10_000n, 4n + 4098n));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/4098 bytes, more than the 4096 allowed/);
    expect(decodeError(rawHeader(100n, 4n + 20n), { maxNameBytes: 10 }).code).toBe('E_PROTOCOL');
    expect(new FileHeaderDecoder({ maxNameBytes: 10 }).push(encodeFileHeader('abcde', 0))).not.toBeNull();
  });

  it('rejects a file over maxFileBytes with E_FRAME_TOO_LARGE', () => {
    const error = decodeError(encodeFileHeader('a.txt', 1001), { maxFileBytes: 1000 });
    expect(error.code).toBe('E_FRAME_TOO_LARGE');
    expect(error.message).toMatch(/1001 bytes, more than the 1000 allowed/);
    expect(new FileHeaderDecoder({ maxFileBytes: 1000 }).push(encodeFileHeader('a.txt', 1000))).not.toBeNull();
  });

  it('rejects sizes beyond what a number holds exactly', () => {
    const error = decodeError(encodeFileHeader('a.txt', 2n ** 62n));
    expect(error.code).toBe('E_FRAME_TOO_LARGE');
    const fine = new FileHeaderDecoder().push(encodeFileHeader('a.txt', 2 ** 50));
    expect(fine?.header.fileBytes).toBe(2 ** 50);
  });

  it('checks the sizes as soon as the first 16 bytes arrive', () => {
    const decoder = new FileHeaderDecoder();
    expect(decoder.push(rawHeader(29n, 14n).subarray(0, 15))).toBeNull();
    expect(() => decoder.push(Buffer.from([14]))).toThrow(SynackError);
  });

  it('keeps failing after an error and refuses bytes after the header', () => {
    const failed = new FileHeaderDecoder();
    expect(() => failed.push(rawHeader(-1n, 14n))).toThrow(/negative/);
    expect(() => failed.push(vector)).toThrow(/negative/);
    const done = new FileHeaderDecoder();
    done.push(vector);
    expect(() => done.push(Buffer.from('more'))).toThrow(/already decoded/);
  });

  it('returns every byte after the header as rest, even past the announced size', () => {
    const result = new FileHeaderDecoder().push(Buffer.concat([vector, Buffer.from('!!')]));
    expect(result?.header.fileBytes).toBe(5);
    expect(result?.rest.toString('latin1')).toBe('hello!!');
  });
});
