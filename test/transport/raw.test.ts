import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SynackError } from '../../src/errors.js';
import { displayText, encodeRawLine, hexDump, parseHex } from '../../src/transport/raw.js';

const hasHexdump = spawnSync('hexdump', ['-C'], { input: '' }).status === 0;
const vector = (name: string) => readFileSync(new URL(`../vectors/${name}`, import.meta.url));

function badHex(input: string): SynackError {
  try {
    parseHex(input);
  } catch (error) {
    expect(error).toBeInstanceOf(SynackError);
    return error as SynackError;
  }
  throw new Error(`parseHex(${JSON.stringify(input)}) did not throw`);
}

describe('raw codec', () => {
  describe('parseHex', () => {
    it.each([
      ['48656c6c6f', 'Hello'],
      ['48 65 6c 6c 6f', 'Hello'],
      ['48 65 6C 6C 6F', 'Hello'],
      ['0x48 0x65 0X6c 0x6c 0x6f', 'Hello'],
      ['48:65:6c:6c:6f', 'Hello'],
      ['48-65-6c-6c-6f', 'Hello'],
      ['48,65,6c,6c,6f', 'Hello'],
      ['  48\t65 6c  6c 6f  ', 'Hello'],
    ])('reads %j as the bytes it spells', (input, text) => {
      expect(parseHex(input)).toEqual(Buffer.from(text));
    });

    it('reads an empty line as no bytes', () => {
      expect(parseHex('')).toEqual(Buffer.alloc(0));
      expect(parseHex('   ')).toEqual(Buffer.alloc(0));
    });

    it('reads the captured echo vector from its single-line hex', () => {
      expect(parseHex('48656c6c6f2c2073657276657221')).toEqual(vector('echo_client_to_server.bin'));
    });

    it.each([
      ['zz', 'z'],
      ['48 6g', 'g'],
      ['0x4h', 'h'],
      ['de ad be ef!', '!'],
      ['héllo', 'h'],
    ])('rejects %j with E_BAD_HEX naming the bad digit %j', (input, digit) => {
      const error = badHex(input);
      expect(error.code).toBe('E_BAD_HEX');
      expect(error.message).toBe(`invalid hex: '${digit}' is not a hex digit (in "${input.trim()}")`);
      expect(error.message).not.toContain('\n');
    });

    it('rejects an odd number of digits, saying how many', () => {
      const error = badHex('48 65 6');
      expect(error.code).toBe('E_BAD_HEX');
      expect(error.message).toBe('invalid hex: odd number of digits (5) in "48 65 6"');
    });

    it('takes 0x only as a prefix, not in the middle of digits', () => {
      expect(badHex('a0xb').message).toContain("'x' is not a hex digit");
    });
  });

  describe('encodeRawLine', () => {
    it('adds LF by default', () => {
      expect(encodeRawLine('hello')).toEqual(Buffer.from('hello\n'));
    });

    it.each([
      ['none', 'hello'],
      ['lf', 'hello\n'],
      ['crlf', 'hello\r\n'],
    ] as const)('adds the chosen line ending (%s)', (eol, bytes) => {
      expect(encodeRawLine('hello', { eol })).toEqual(Buffer.from(bytes));
    });

    it('encodes text as UTF-8', () => {
      expect(encodeRawLine('你好 😀', { eol: 'none' })).toEqual(Buffer.from([0xe4, 0xbd, 0xa0, 0xe5, 0xa5, 0xbd, 0x20, 0xf0, 0x9f, 0x98, 0x80]));
    });

    it('with hex, sends exactly the bytes spelled, without a line ending', () => {
      expect(encodeRawLine('de ad be ef', { hex: true, eol: 'crlf' })).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    });

    it('with hex, throws E_BAD_HEX for a line that is not hex', () => {
      expect(() => encodeRawLine('hello', { hex: true })).toThrow(expect.objectContaining({ code: 'E_BAD_HEX' }));
    });
  });

  describe('displayText', () => {
    it('shows UTF-8 text as it is, tabs and line ends included', () => {
      expect(displayText(Buffer.from('hello 你好 😀\tok\r\n'))).toBe('hello 你好 😀\tok\r\n');
    });

    it('escapes control characters so a peer cannot drive the terminal', () => {
      expect(displayText(Buffer.from('\x1b[2Jhi\x07\x00\x7f\x08'))).toBe('\\x1b[2Jhi\\x07\\x00\\x7f\\x08');
    });

    it('escapes bytes that are not UTF-8, keeping the valid text around them', () => {
      expect(displayText(Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]))).toBe('hi\\xff\\xfe!');
      expect(displayText(Buffer.from([0x68, 0x69, 0x1b, 0xff]))).toBe('hi\\x1b\\xff');
    });

    it('escapes a multi-byte sequence cut short, an overlong form and a lone continuation byte', () => {
      expect(displayText(Buffer.from([0x61, 0xe4, 0xbd]))).toBe('a\\xe4\\xbd'); // 你 without its last byte
      expect(displayText(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf'); // overlong '/'
      expect(displayText(Buffer.from([0x80, 0x41]))).toBe('\\x80A');
      expect(displayText(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80'); // a UTF-16 surrogate
    });

    it('keeps a real U+FFFD, even next to invalid bytes', () => {
      expect(displayText(Buffer.from('a\uFFFDb'))).toBe('a\uFFFDb');
      expect(displayText(Buffer.concat([Buffer.from('\uFFFD'), Buffer.from([0xff])]))).toBe('\uFFFD\\xff');
    });

    it('shows the Qt text frame vector readably, escaping its length fields', () => {
      const text = displayText(vector('text_frame.bin'));
      expect(text.startsWith('\\x00\\x00\\x00' + '8' + '\\x00\\x00\\x00\\x01')).toBe(true);
    });
  });

  describe('hexDump', () => {
    it('prints a short row like hexdump -C', () => {
      expect(hexDump(Buffer.from('Hello'))).toBe('00000000  48 65 6c 6c 6f' + ' '.repeat(36) + '|Hello|');
    });

    it('prints full rows of 16 with a gap after 8, offsets in hex, and dots for unprintable bytes', () => {
      expect(hexDump(vector('text_frame.bin').subarray(0, 40)).split('\n')).toEqual([
        '00000000  00 00 00 38 00 00 00 01  00 00 00 18 00 74 00 68  |...8.........t.h|',
        '00000010  00 69 00 73 00 20 00 69  00 73 00 20 00 74 00 65  |.i.s. .i.s. .t.e|',
        '00000020  00 78 00 74 00 00 00 14                           |.x.t....|',
      ]);
    });

    it('prints a row of exactly 8 bytes and bytes ≥ 0x7f as dots', () => {
      expect(hexDump(Buffer.from([0x41, 0x7e, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x42]))).toBe(
        '00000000  41 7e 7f 80 ff 20 0a 42' + ' '.repeat(27) + '|A~... .B|',
      );
    });

    it.runIf(hasHexdump)('matches the hexdump -C of this machine, row for row', () => {
      const bytes = Buffer.concat([vector('server_heartbeat_reply.bin'), Buffer.from([0, 0x7f, 0xff])]);
      const reference = execFileSync('hexdump', ['-C'], { input: bytes }).toString().split('\n');
      // hexdump -C ends with the total length on a line of its own.
      expect(hexDump(bytes).split('\n')).toEqual(reference.slice(0, -2));
    });

    it('prints nothing for no bytes', () => {
      expect(hexDump(Buffer.alloc(0))).toBe('');
    });
  });
});
