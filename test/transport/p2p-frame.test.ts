import { describe, expect, it } from 'vitest';
import { SynackError, type SynackErrorCode } from '../../src/errors.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  P2P_FRAME_TYPES,
  P2pFrameDecoder,
  REGISTRY_GREETING,
  encodeP2pFrame,
  formatGreeting,
  formatPeerAddress,
  formatPeerList,
  greeting,
  messageFrame,
  parseGreeting,
  parsePeerAddress,
  parsePeerList,
  peerListFrame,
  registerFrame,
  registryGreetingFrame,
  type P2pFrame,
  type PeerAddress,
} from '../../src/transport/p2p-frame.js';

const ascii = (text: string) => Buffer.from(text, 'latin1');
const utf8 = (text: string) => Buffer.from(text, 'utf8');

function decodeAll(chunks: Buffer[], decoder = new P2pFrameDecoder()): P2pFrame[] {
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

function codeOf(action: () => unknown): SynackErrorCode | 'no error' {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SynackError);
    return (error as SynackError).code;
  }
  return 'no error';
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const alice: PeerAddress = { name: 'alice', host: '192.168.1.5', port: 9001 };
const bob: PeerAddress = { name: 'bob', host: '192.168.1.6', port: 9002 };

describe('p2p frame', () => {
  describe('encoding', () => {
    it('encodes the DESIGN §3.4 REGISTER example with its true byte length (22; DESIGN prints 24)', () => {
      expect(registerFrame('alice', '192.168.1.5', 9001)).toEqual(ascii('REGISTER 22 alice@192.168.1.5:9001'));
    });

    it('does not decode the DESIGN literal with 24 as a frame: it waits for two more bytes', () => {
      const decoder = new P2pFrameDecoder();
      expect(decoder.push(ascii('REGISTER 24 alice@192.168.1.5:9001'))).toEqual([]);
      expect(decoder.hasPartialFrame).toBe(true);
    });

    it('encodes the registry answer as GREETING 19 Register Validation', () => {
      expect(REGISTRY_GREETING).toBe('Register Validation');
      expect(registryGreetingFrame()).toEqual(ascii('GREETING 19 Register Validation'));
      expect(registryGreetingFrame()).not.toBe(registryGreetingFrame());
    });

    it('encodes a peer greeting as name:ip:port', () => {
      expect(greeting('bob', '192.168.1.6', 9002)).toEqual(ascii('GREETING 20 bob:192.168.1.6:9002'));
    });

    it('encodes a peer list joined by semicolons, without a trailing one', () => {
      expect(peerListFrame([alice, bob])).toEqual(ascii('PEERLIST 43 alice@192.168.1.5:9001;bob@192.168.1.6:9002'));
    });

    it('encodes an empty peer list as an empty payload', () => {
      expect(peerListFrame([])).toEqual(ascii('PEERLIST 0 '));
    });

    it('counts UTF-8 bytes, not characters, in the length', () => {
      expect(messageFrame('你好')).toEqual(Buffer.concat([ascii('MESSAGE 6 '), utf8('你好')]));
      expect(messageFrame('hi 👋').toString('utf8')).toBe('MESSAGE 7 hi 👋');
      expect(messageFrame('')).toEqual(ascii('MESSAGE 0 '));
    });

    it('writes IPv6 in brackets and IPv4 as is', () => {
      expect(registerFrame('carol', '::1', 7000).toString()).toBe('REGISTER 16 carol@[::1]:7000');
      expect(greeting('carol', 'fe80::1%eth0', 7000).toString()).toBe('GREETING 25 carol:[fe80::1%eth0]:7000');
    });

    it('refuses a type with a space or a payload with a lone surrogate', () => {
      expect(codeOf(() => encodeP2pFrame('MES SAGE', 'x'))).toBe('E_PROTOCOL');
      expect(codeOf(() => encodeP2pFrame('', 'x'))).toBe('E_PROTOCOL');
      expect(codeOf(() => messageFrame('broken \ud83d'))).toBe('E_PROTOCOL');
      expect(codeOf(() => messageFrame('\ude00 broken'))).toBe('E_PROTOCOL');
    });

    it('refuses to build frames for invalid peers', () => {
      expect(codeOf(() => registerFrame('', '1.2.3.4', 1))).toBe('E_PROTOCOL');
      expect(codeOf(() => registerFrame('a@b', '1.2.3.4', 1))).toBe('E_PROTOCOL');
      expect(codeOf(() => greeting('a', 'localhost', 1))).toBe('E_PROTOCOL');
      expect(codeOf(() => greeting('a', '[::1]', 1))).toBe('E_PROTOCOL');
      expect(codeOf(() => greeting('a', '1.2.3.4', 0))).toBe('E_PROTOCOL');
      expect(codeOf(() => greeting('a', '1.2.3.4', 65536))).toBe('E_PROTOCOL');
      expect(codeOf(() => greeting('a', '1.2.3.4', 1.5))).toBe('E_PROTOCOL');
      expect(codeOf(() => peerListFrame([alice, { name: 'x;y', host: '1.2.3.4', port: 1 }]))).toBe('E_PROTOCOL');
    });
  });

  describe('decoding', () => {
    const stream = Buffer.concat([
      greeting('张三', '10.0.0.7', 4000),
      registerFrame('张三', '10.0.0.7', 4000),
      peerListFrame([]),
      messageFrame('你好，世界 🌏👨‍👩‍👧'),
      messageFrame('two  spaces and a\nnewline: MESSAGE 5 fake'),
      peerListFrame([alice, { name: 'ipv6', host: '2001:db8::42', port: 65535 }]),
      registryGreetingFrame(),
    ]);
    const expected: P2pFrame[] = [
      { type: 'GREETING', payload: '张三:10.0.0.7:4000' },
      { type: 'REGISTER', payload: '张三@10.0.0.7:4000' },
      { type: 'PEERLIST', payload: '' },
      { type: 'MESSAGE', payload: '你好，世界 🌏👨‍👩‍👧' },
      { type: 'MESSAGE', payload: 'two  spaces and a\nnewline: MESSAGE 5 fake' },
      { type: 'PEERLIST', payload: 'alice@192.168.1.5:9001;ipv6@[2001:db8::42]:65535' },
      { type: 'GREETING', payload: 'Register Validation' },
    ];

    it('decodes many frames from one chunk', () => {
      const decoder = new P2pFrameDecoder();
      expect(decoder.push(stream)).toEqual(expected);
      expect(decoder.pendingBytes).toBe(0);
      expect(decoder.hasPartialFrame).toBe(false);
    });

    it('decodes the same frames when the stream is split at every offset', () => {
      for (let offset = 0; offset <= stream.length; offset++) {
        const frames = decodeAll([stream.subarray(0, offset), stream.subarray(offset)]);
        expect(frames, `split at ${offset}`).toEqual(expected);
      }
    });

    it('decodes the same frames when fed one byte at a time', () => {
      const chunks = [...stream].map((byte) => Buffer.of(byte));
      expect(decodeAll(chunks)).toEqual(expected);
    });

    it('decodes a REGISTER split inside its length', () => {
      const decoder = new P2pFrameDecoder();
      expect(decoder.push(ascii('REGISTER 2'))).toEqual([]);
      expect(decoder.push(ascii('2 alice@192.168.1.5:9001MESS'))).toEqual([{ type: 'REGISTER', payload: 'alice@192.168.1.5:9001' }]);
      expect(decoder.pendingBytes).toBe(4);
    });

    it('decodes a frame split inside its type', () => {
      const decoder = new P2pFrameDecoder();
      expect(decoder.push(ascii('PEER'))).toEqual([]);
      expect(decoder.push(ascii('LIST 0 '))).toEqual([{ type: 'PEERLIST', payload: '' }]);
    });

    it('decodes a payload split inside a multi-byte character', () => {
      const frame = messageFrame('😀中');
      const decoder = new P2pFrameDecoder();
      const headerLength = 'MESSAGE 7 '.length;
      expect(decoder.push(frame.subarray(0, headerLength + 2))).toEqual([]);
      expect(decoder.push(frame.subarray(headerLength + 2, headerLength + 5))).toEqual([]);
      expect(decoder.push(frame.subarray(headerLength + 5))).toEqual([{ type: 'MESSAGE', payload: '😀中' }]);
    });

    it('keeps a leading byte-order mark in the payload', () => {
      expect(new P2pFrameDecoder().push(messageFrame('\ufeffhi'))).toEqual([{ type: 'MESSAGE', payload: '\ufeffhi' }]);
    });

    it('accepts a length with leading zeros, as the original does', () => {
      expect(new P2pFrameDecoder().push(ascii('MESSAGE 002 hi'))).toEqual([{ type: 'MESSAGE', payload: 'hi' }]);
    });

    it('reads bytes a Qt peer would send', () => {
      const fromQt = Buffer.concat([ascii('GREETING 20 bob:192.168.1.6:9002'), ascii('MESSAGE 9 '), utf8('晚上好'), ascii('MESSAGE 3 ok!')]);
      expect(new P2pFrameDecoder().push(fromQt)).toEqual([
        { type: 'GREETING', payload: 'bob:192.168.1.6:9002' },
        { type: 'MESSAGE', payload: '晚上好' },
        { type: 'MESSAGE', payload: 'ok!' },
      ]);
    });

    it('counts pending header and payload bytes of a partial frame', () => {
      const decoder = new P2pFrameDecoder();
      expect(decoder.hasPartialFrame).toBe(false);
      decoder.push(ascii('MESS'));
      expect(decoder.pendingBytes).toBe(4);
      decoder.push(ascii('AGE 5 he'));
      expect(decoder.pendingBytes).toBe(12);
      expect(decoder.hasPartialFrame).toBe(true);
      expect(decoder.push(ascii('llo'))).toEqual([{ type: 'MESSAGE', payload: 'hello' }]);
      expect(decoder.pendingBytes).toBe(0);
      expect(decoder.hasPartialFrame).toBe(false);
    });

    it('accepts a payload of exactly maxPayloadBytes', () => {
      const decoder = new P2pFrameDecoder({ maxPayloadBytes: 4 });
      expect(decoder.push(ascii('MESSAGE 4 abcd'))).toEqual([{ type: 'MESSAGE', payload: 'abcd' }]);
      expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(1_024_000);
      expect(new P2pFrameDecoder().push(ascii('MESSAGE 1024000 '))).toEqual([]);
    });

    it('accepts only the types it is given', () => {
      const chat = new P2pFrameDecoder({ types: ['GREETING', 'MESSAGE'] });
      expect(chat.push(ascii('MESSAGE 1 x'))).toEqual([{ type: 'MESSAGE', payload: 'x' }]);
      expect(codeOf(() => chat.push(ascii('PEERLIST 0 ')))).toBe('E_PROTOCOL');
      const custom = new P2pFrameDecoder({ types: ['PING', 'PINGS'] });
      expect(custom.push(ascii('PINGS 0 PING 1 x'))).toEqual([
        { type: 'PINGS', payload: '' },
        { type: 'PING', payload: 'x' },
      ]);
      expect(P2P_FRAME_TYPES).toEqual(['GREETING', 'REGISTER', 'PEERLIST', 'MESSAGE']);
    });

    it('rejects bad options as usage errors', () => {
      expect(codeOf(() => new P2pFrameDecoder({ maxPayloadBytes: -1 }))).toBe('E_USAGE');
      expect(codeOf(() => new P2pFrameDecoder({ maxPayloadBytes: 1.5 }))).toBe('E_USAGE');
      expect(codeOf(() => new P2pFrameDecoder({ types: [] }))).toBe('E_USAGE');
      expect(codeOf(() => new P2pFrameDecoder({ types: ['TWO WORDS'] }))).toBe('E_USAGE');
    });
  });

  describe('decoding errors', () => {
    const cases: Array<[string, Buffer | string, SynackErrorCode]> = [
      ['an unknown type word', 'HELLO 1 x', 'E_PROTOCOL'],
      ['a lowercase type', 'message 1 x', 'E_PROTOCOL'],
      ['a type longer than any known', 'MESSAGES 1 x', 'E_PROTOCOL'],
      ['a known prefix ended early', 'MESS 1 x', 'E_PROTOCOL'],
      ['an empty type (leading space)', ' MESSAGE 1 x', 'E_PROTOCOL'],
      ['an HTTP request', 'GET / HTTP/1.1\r\n\r\n', 'E_PROTOCOL'],
      ['a NUL byte in the type', ascii('MESS\0AGE 1 x'), 'E_PROTOCOL'],
      ['a missing length (two spaces)', 'MESSAGE  1 x', 'E_PROTOCOL'],
      ['a negative length', 'MESSAGE -1 x', 'E_PROTOCOL'],
      ['a length with a leading plus', 'MESSAGE +1 x', 'E_PROTOCOL'],
      ['a hexadecimal length', 'MESSAGE 0x10 x', 'E_PROTOCOL'],
      ['an exponent length', 'MESSAGE 1e3 x', 'E_PROTOCOL'],
      ['a fractional length', 'MESSAGE 1.0 x', 'E_PROTOCOL'],
      ['a length ended by a newline', 'MESSAGE 1\nx', 'E_PROTOCOL'],
      ['an absurdly long length', 'MESSAGE 0000000000000001 x', 'E_PROTOCOL'],
      ['an absurdly long length with no end', `MESSAGE ${'9'.repeat(40)}`, 'E_PROTOCOL'],
      ['a length over the limit', 'MESSAGE 1024001 ', 'E_FRAME_TOO_LARGE'],
      ['a huge length', 'MESSAGE 999999999999 x', 'E_FRAME_TOO_LARGE'],
      ['an invalid UTF-8 byte', Buffer.concat([ascii('MESSAGE 2 '), Buffer.of(0xff, 0xfe)]), 'E_PROTOCOL'],
      ['an overlong UTF-8 encoding', Buffer.concat([ascii('MESSAGE 2 '), Buffer.of(0xc0, 0xaf)]), 'E_PROTOCOL'],
      ['a UTF-8 encoded surrogate', Buffer.concat([ascii('MESSAGE 3 '), Buffer.of(0xed, 0xa0, 0x80)]), 'E_PROTOCOL'],
      ['a payload ending inside a character', Buffer.concat([ascii('MESSAGE 2 '), utf8('中').subarray(0, 2)]), 'E_PROTOCOL'],
      ['a code point above U+10FFFF', Buffer.concat([ascii('MESSAGE 4 '), Buffer.of(0xf4, 0x90, 0x80, 0x80)]), 'E_PROTOCOL'],
    ];

    for (const [what, input, code] of cases) {
      it(`fails with ${code} on ${what}`, () => {
        const bytes = typeof input === 'string' ? ascii(input) : input;
        expect(codeOf(() => new P2pFrameDecoder().push(bytes))).toBe(code);
        const decoder = new P2pFrameDecoder();
        expect(codeOf(() => decodeAll([...bytes].map((byte) => Buffer.of(byte)), decoder))).toBe(code);
      });
    }

    it('detects an unknown type at its first impossible byte', () => {
      expect(codeOf(() => new P2pFrameDecoder().push(ascii('MESS')))).toBe('no error');
      expect(codeOf(() => new P2pFrameDecoder().push(ascii('GE')))).toBe('E_PROTOCOL');
      expect(codeOf(() => new P2pFrameDecoder().push(ascii('X')))).toBe('E_PROTOCOL');
    });

    it('fails on an oversized length before buffering any payload', () => {
      const decoder = new P2pFrameDecoder({ maxPayloadBytes: 10 });
      expect(codeOf(() => decoder.push(Buffer.concat([ascii('MESSAGE 11 '), Buffer.alloc(11, 0x61)])))).toBe('E_FRAME_TOO_LARGE');
      expect(decoder.pendingBytes).toBe('MESSAGE 11 '.length);
    });

    it('stays dead after an error', () => {
      const decoder = new P2pFrameDecoder();
      expect(codeOf(() => decoder.push(ascii('NOPE')))).toBe('E_PROTOCOL');
      expect(codeOf(() => decoder.push(messageFrame('fine')))).toBe('E_PROTOCOL');
      const tooLarge = new P2pFrameDecoder({ maxPayloadBytes: 1 });
      expect(codeOf(() => tooLarge.push(ascii('MESSAGE 2 ')))).toBe('E_FRAME_TOO_LARGE');
      expect(codeOf(() => tooLarge.push(messageFrame('x')))).toBe('E_FRAME_TOO_LARGE');
    });

    it('hands back the frames that preceded an error in the same chunk', () => {
      const frames: P2pFrame[] = [];
      expect(codeOf(() => new P2pFrameDecoder().push(ascii('MESSAGE 2 hiMESSAGE -1 '), frames))).toBe('E_PROTOCOL');
      expect(frames).toEqual([{ type: 'MESSAGE', payload: 'hi' }]);
    });
  });

  describe('payloads', () => {
    it('parses and formats a greeting', () => {
      expect(parseGreeting('bob:192.168.1.6:9002')).toEqual(bob);
      expect(formatGreeting(bob)).toBe('bob:192.168.1.6:9002');
      expect(parseGreeting('bob:[::1]:9002')).toEqual({ name: 'bob', host: '::1', port: 9002 });
      expect(parseGreeting('李四:[fe80::1%eth0]:1')).toEqual({ name: '李四', host: 'fe80::1%eth0', port: 1 });
    });

    it('parses and formats a peer address', () => {
      expect(parsePeerAddress('alice@192.168.1.5:9001')).toEqual(alice);
      expect(formatPeerAddress(alice)).toBe('alice@192.168.1.5:9001');
      expect(parsePeerAddress('alice@[::ffff:192.168.1.5]:9001')).toEqual({ name: 'alice', host: '::ffff:192.168.1.5', port: 9001 });
      expect(parsePeerAddress('😀@127.0.0.1:65535')).toEqual({ name: '😀', host: '127.0.0.1', port: 65535 });
    });

    it('round-trips peer lists, IPv6 and the empty list included', () => {
      const lists: PeerAddress[][] = [
        [],
        [alice],
        [alice, bob, { name: '王五', host: '2001:db8::1', port: 443 }, { name: 'lo6', host: '::', port: 1 }],
      ];
      for (const list of lists) expect(parsePeerList(formatPeerList(list))).toEqual(list);
      expect(formatPeerList([])).toBe('');
      expect(parsePeerList('')).toEqual([]);
      expect(parsePeerList('alice@192.168.1.5:9001;bob@192.168.1.6:9002')).toEqual([alice, bob]);
    });

    it('reads the registry answer as a constant, not as a greeting', () => {
      expect(codeOf(() => parseGreeting(REGISTRY_GREETING))).toBe('E_PROTOCOL');
    });

    const badGreetings = [
      '',
      'bob',
      ':1.2.3.4:5',
      'bob:1.2.3.4',
      'bob:1.2.3.4:',
      'bob:1.2.3.4:0',
      'bob:1.2.3.4:65536',
      'bob:1.2.3.4:080',
      'bob:1.2.3.4:+80',
      'bob:1.2.3.4:80 ',
      'bob:1.2.3.4:5:6',
      'bob:1.2.3:5',
      'bob:01.2.3.4:5',
      'bob:localhost:5',
      'bob:::1:5',
      'bob:[::1:5',
      'bob:[::1]5',
      'bob:[1.2.3.4]:5',
      'bob:[::1]:5:6',
      'b@b:1.2.3.4:5',
      'b b:1.2.3.4:5',
      'b\tb:1.2.3.4:5',
      'b\u3000b:1.2.3.4:5',
      'b\u0007b:1.2.3.4:5',
    ];
    for (const payload of badGreetings) {
      it(`rejects the greeting ${JSON.stringify(payload)}`, () => {
        expect(codeOf(() => parseGreeting(payload))).toBe('E_PROTOCOL');
      });
    }

    const badAddresses = [
      '',
      'alice',
      '@1.2.3.4:5',
      'alice@',
      'alice@1.2.3.4',
      'alice@1.2.3.4:5@x',
      'alice@bob@1.2.3.4:5',
      'al:ice@1.2.3.4:5',
      'al;ice@1.2.3.4:5',
      'al ice@1.2.3.4:5',
      'alice@::1:5',
      'alice@[::1]',
      'alice@[zz::1]:5',
      'alice@1.2.3.4:99999',
      'alice@1.2.3.4:-1',
    ];
    for (const text of badAddresses) {
      it(`rejects the peer address ${JSON.stringify(text)}`, () => {
        expect(codeOf(() => parsePeerAddress(text))).toBe('E_PROTOCOL');
      });
    }

    it('rejects empty and malformed peer list entries', () => {
      for (const payload of [';', 'alice@1.2.3.4:5;', ';alice@1.2.3.4:5', 'alice@1.2.3.4:5;;bob@1.2.3.4:6', 'alice@1.2.3.4:5,bob@1.2.3.4:6']) {
        expect(codeOf(() => parsePeerList(payload)), payload).toBe('E_PROTOCOL');
      }
      expect(() => parsePeerList('alice@1.2.3.4:5;bob@1.2.3.4:0')).toThrow(/entry 2/);
    });
  });

  describe('random round trips', () => {
    const pieces = ['a', 'Z', '0', '9', ' ', '  ', '@', ':', ';', '\n', '\r\n', '\t', '中', '文', '€', 'é', '😀', '👨‍👩‍👧', '\ufeff', 'MESSAGE 5 ', '\u0000', '\u007f'];
    const namePieces = ['a', 'B', '7', '_', '-', '.', '中', 'é', '😀', '[', ']', '%'];

    const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const text = (random: () => number, parts: readonly string[], maxParts: number) =>
      Array.from({ length: Math.floor(random() * maxParts) }, () => pick(random, parts)).join('');

    function randomPeer(random: () => number): PeerAddress {
      const name = text(random, namePieces, 8) || 'x';
      const port = 1 + Math.floor(random() * 65535);
      const octets = () => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.');
      const groups = () => Array.from({ length: 8 }, () => Math.floor(random() * 65536).toString(16)).join(':');
      const host = pick(random, [octets, groups, () => '::1', () => `fe80::${Math.floor(random() * 65536).toString(16)}`])();
      return { name, host, port };
    }

    it('decodes random frames split into random chunks as they were encoded', () => {
      const random = mulberry32(0x5eed);
      for (let round = 0; round < 200; round++) {
        const frames: P2pFrame[] = Array.from({ length: 1 + Math.floor(random() * 8) }, () => ({
          type: pick(random, P2P_FRAME_TYPES),
          payload: text(random, pieces, 30),
        }));
        const bytes = Buffer.concat(frames.map((frame) => encodeP2pFrame(frame.type, frame.payload)));
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; ) {
          const size = random() < 0.8 ? 1 + Math.floor(random() * 12) : 1 + Math.floor(random() * 200);
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        const decoder = new P2pFrameDecoder();
        expect(decodeAll(chunks, decoder), `round ${round}`).toEqual(frames);
        expect(decoder.pendingBytes).toBe(0);
      }
    });

    it('parses random peer lists as they were formatted', () => {
      const random = mulberry32(0xc0ffee);
      for (let round = 0; round < 300; round++) {
        const peers = Array.from({ length: Math.floor(random() * 5) }, () => randomPeer(random));
        const [frame] = new P2pFrameDecoder().push(peerListFrame(peers));
        expect(frame?.type).toBe('PEERLIST');
        expect(parsePeerList(frame!.payload), `round ${round}`).toEqual(peers);
        for (const peer of peers) {
          expect(parseGreeting(formatGreeting(peer))).toEqual(peer);
          expect(parsePeerAddress(formatPeerAddress(peer))).toEqual(peer);
        }
      }
    });
  });
});
