/**
 * The P2PChatRoom text framing (DESIGN §3.4, seed 003): ASCII `TYPE`, a space, the payload's
 * UTF-8 byte length in decimal, a space, then exactly that many payload bytes, no terminator.
 *
 * Addresses: IPv4 is written as is (`alice@192.168.1.5:9001`, byte-identical to the original);
 * IPv6 is written in brackets (`alice@[::1]:9001`, `alice:[fe80::1%eth0]:9001`) so the port stays
 * unambiguous. The original splits on `:` and cannot read IPv6 at all, so brackets break nothing
 * that worked; our parsers require them for IPv6.
 *
 * Pure: no sockets, no timers. A link owns one {@link P2pFrameDecoder} and enforces its own
 * "frame stopped half-way" timeout with {@link P2pFrameDecoder.hasPartialFrame}.
 */
import { isUtf8 } from 'node:buffer';
import { isIP } from 'node:net';
import { SynackError } from '../errors.js';
import { formatEndpoint } from './socket-bridge.js';

/** The frame types of the original protocol. */
export type P2pFrameType = 'GREETING' | 'REGISTER' | 'PEERLIST' | 'MESSAGE';

/**
 * The four original frame types, the decoder's default.
 *
 * @example
 * ```ts
 * new P2pFrameDecoder({ types: P2P_FRAME_TYPES.filter((t) => t !== 'MESSAGE') });
 * ```
 */
export const P2P_FRAME_TYPES: readonly P2pFrameType[] = Object.freeze(['GREETING', 'REGISTER', 'PEERLIST', 'MESSAGE']);

/**
 * The original's buffer cap (`MaxBufferSize`), the decoder's default payload limit.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(formatPeerList(peers)) > DEFAULT_MAX_PAYLOAD_BYTES) console.warn('list too long for peers');
 * ```
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_024_000;

/**
 * The registry's fixed answer to a peer's greeting: the payload of `GREETING 19 Register Validation`.
 *
 * @example
 * ```ts
 * if (frame.type === 'GREETING' && frame.payload === REGISTRY_GREETING) registered = true;
 * ```
 */
export const REGISTRY_GREETING = 'Register Validation';

/** One decoded frame. `type` is one of the decoder's `types`. */
export interface P2pFrame {
  type: string;
  payload: string;
}

/** A peer as a greeting, a REGISTER or a PEERLIST entry names it. `host` is a bare IP (no brackets). */
export interface PeerAddress {
  name: string;
  host: string;
  port: number;
}

/** Options of {@link P2pFrameDecoder}. */
export interface P2pFrameDecoderOptions {
  /** Largest accepted payload in bytes; a larger declared length fails before any payload is buffered. Default {@link DEFAULT_MAX_PAYLOAD_BYTES}. */
  maxPayloadBytes?: number;
  /** Accepted frame types (printable ASCII, no spaces). Default {@link P2P_FRAME_TYPES}. */
  types?: readonly string[];
}

const TYPE_PATTERN = /^[\x21-\x7e]+$/;
const NAME_FORBIDDEN = /[@:;\s\p{Cc}\p{Cs}]/u;
const LONE_SURROGATE = /\p{Cs}/u;
const PORT_PATTERN = /^[1-9][0-9]{0,4}$/;
const MAX_LENGTH_DIGITS = 15;
const SPACE = 0x20;
const EMPTY = Buffer.alloc(0);

function protocolError(message: string): SynackError {
  return new SynackError('E_PROTOCOL', message);
}

function show(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * Encodes one frame. The length is the payload's UTF-8 byte length, so any well-formed text works.
 * Throws `E_PROTOCOL` for a type that is not printable ASCII without spaces, or a payload with a
 * lone UTF-16 surrogate (it has no UTF-8 form). An empty payload is allowed (`MESSAGE 0 `), but an
 * original Qt peer stalls on zero-length frames, so prefer not to send them to one.
 *
 * @example
 * ```ts
 * encodeP2pFrame('MESSAGE', '你好').toString(); // 'MESSAGE 6 你好'
 * ```
 */
export function encodeP2pFrame(type: string, payload: string): Buffer {
  if (!TYPE_PATTERN.test(type)) throw protocolError(`frame type must be printable ASCII without spaces: ${show(type)}`);
  if (LONE_SURROGATE.test(payload)) throw protocolError(`${type} payload has a lone UTF-16 surrogate`);
  const bodyLength = Buffer.byteLength(payload, 'utf8');
  const head = `${type} ${bodyLength} `;
  const frame = Buffer.allocUnsafe(head.length + bodyLength);
  frame.write(head, 0, 'latin1');
  frame.write(payload, head.length, 'utf8');
  return frame;
}

/** Throws E_PROTOCOL (`<what>: …`) for a peer name the protocol cannot carry: empty, or with `@ : ;`, whitespace or a control character. */
export function checkName(name: string, what: string): void {
  if (name === '') throw protocolError(`${what}: empty name`);
  if (NAME_FORBIDDEN.test(name)) throw protocolError(`${what}: name ${show(name)} contains @ : ; whitespace or a control character`);
}

function checkPeer(peer: PeerAddress, what: string): void {
  checkName(peer.name, what);
  if (isIP(peer.host) === 0) throw protocolError(`${what}: not an IP address: ${show(peer.host)}`);
  if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) throw protocolError(`${what}: port ${peer.port} is not 1–65535`);
}

function parseHostPort(text: string, what: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw protocolError(`${what}: unclosed [ in ${show(text)}`);
    host = text.slice(1, close);
    if (isIP(host) !== 6) throw protocolError(`${what}: not an IPv6 address: ${show(host)}`);
    if (text[close + 1] !== ':') throw protocolError(`${what}: expected :port after ${show(text.slice(0, close + 1))}`);
    portText = text.slice(close + 2);
  } else {
    const colon = text.indexOf(':');
    if (colon < 0) throw protocolError(`${what}: expected ip:port, got ${show(text)}`);
    host = text.slice(0, colon);
    if (isIP(host) !== 4) {
      throw protocolError(`${what}: not an IPv4 address (IPv6 goes in brackets): ${show(host)}`);
    }
    portText = text.slice(colon + 1);
  }
  if (!PORT_PATTERN.test(portText) || Number(portText) > 65535) throw protocolError(`${what}: bad port ${show(portText)}`);
  return { host, port: Number(portText) };
}

/**
 * Formats a greeting payload `name:ip:port` (IPv6 in brackets). Throws `E_PROTOCOL` for an invalid peer.
 *
 * @example
 * ```ts
 * formatGreeting({ name: 'bob', host: '::1', port: 9002 }); // 'bob:[::1]:9002'
 * ```
 */
export function formatGreeting(peer: PeerAddress): string {
  checkPeer(peer, 'greeting');
  return `${peer.name}:${formatEndpoint(peer.host, peer.port)}`;
}

/**
 * Parses a peer's greeting payload `name:ip:port`. The registry's answer ({@link REGISTRY_GREETING})
 * is not a peer greeting: compare it, do not parse it. Throws `E_PROTOCOL` when malformed.
 *
 * @example
 * ```ts
 * parseGreeting('bob:192.168.1.6:9002'); // { name: 'bob', host: '192.168.1.6', port: 9002 }
 * ```
 */
export function parseGreeting(payload: string): PeerAddress {
  const colon = payload.indexOf(':');
  if (colon < 0) throw protocolError(`greeting: expected name:ip:port, got ${show(payload)}`);
  const name = payload.slice(0, colon);
  checkName(name, 'greeting');
  return { name, ...parseHostPort(payload.slice(colon + 1), 'greeting') };
}

/**
 * Formats `name@ip:port`, the REGISTER payload and one PEERLIST entry. Throws `E_PROTOCOL` for an invalid peer.
 *
 * @example
 * ```ts
 * formatPeerAddress({ name: 'alice', host: '192.168.1.5', port: 9001 }); // 'alice@192.168.1.5:9001'
 * ```
 */
export function formatPeerAddress(peer: PeerAddress): string {
  checkPeer(peer, 'peer address');
  return `${peer.name}@${formatEndpoint(peer.host, peer.port)}`;
}

/**
 * Parses `name@ip:port` (IPv6 as `name@[::1]:port`). Throws `E_PROTOCOL` when malformed.
 *
 * @example
 * ```ts
 * parsePeerAddress('alice@[::1]:9001'); // { name: 'alice', host: '::1', port: 9001 }
 * ```
 */
export function parsePeerAddress(text: string): PeerAddress {
  const at = text.indexOf('@');
  if (at < 0) throw protocolError(`peer address: expected name@ip:port, got ${show(text)}`);
  const name = text.slice(0, at);
  checkName(name, 'peer address');
  return { name, ...parseHostPort(text.slice(at + 1), 'peer address') };
}

/**
 * Formats a PEERLIST payload: entries joined by `;`, no trailing `;`; an empty list is an empty payload.
 *
 * @example
 * ```ts
 * formatPeerList([{ name: 'a', host: '10.0.0.1', port: 1 }, { name: 'b', host: '::1', port: 2 }]); // 'a@10.0.0.1:1;b@[::1]:2'
 * ```
 */
export function formatPeerList(peers: readonly PeerAddress[]): string {
  return peers.map(formatPeerAddress).join(';');
}

/**
 * Parses a PEERLIST payload; `''` is the empty list. Empty entries (`a@…;;b@…`, a trailing `;`) are
 * malformed. Throws `E_PROTOCOL` naming the bad entry.
 *
 * @example
 * ```ts
 * parsePeerList('a@10.0.0.1:1;b@[::1]:2').map((p) => p.name); // ['a', 'b']
 * ```
 */
export function parsePeerList(payload: string): PeerAddress[] {
  if (payload === '') return [];
  return payload.split(';').map((entry, index) => {
    try {
      return parsePeerAddress(entry);
    } catch (error) {
      throw protocolError(`peer list entry ${index + 1}: ${(error as Error).message}`);
    }
  });
}

/**
 * A peer's greeting frame, `GREETING n name:ip:port`, sent first on every registry and chat link.
 *
 * @example
 * ```ts
 * greeting('bob', '192.168.1.6', 9002).toString(); // 'GREETING 20 bob:192.168.1.6:9002'
 * ```
 */
export function greeting(name: string, host: string, port: number): Buffer {
  return encodeP2pFrame('GREETING', formatGreeting({ name, host, port }));
}

/**
 * The registry's answer to a greeting, `GREETING 19 Register Validation` (a fresh buffer each call).
 *
 * @example
 * ```ts
 * socket.write(registryGreetingFrame());
 * ```
 */
export function registryGreetingFrame(): Buffer {
  return encodeP2pFrame('GREETING', REGISTRY_GREETING);
}

/**
 * A REGISTER frame, `REGISTER n name@ip:port`, sent after the greeting and every 15 s.
 *
 * @example
 * ```ts
 * registerFrame('alice', '192.168.1.5', 9001).toString(); // 'REGISTER 22 alice@192.168.1.5:9001'
 * ```
 */
export function registerFrame(name: string, host: string, port: number): Buffer {
  return encodeP2pFrame('REGISTER', formatPeerAddress({ name, host, port }));
}

/**
 * A PEERLIST frame; an empty list gives `PEERLIST 0 `.
 *
 * @example
 * ```ts
 * peerListFrame([{ name: 'alice', host: '192.168.1.5', port: 9001 }]).toString(); // 'PEERLIST 22 alice@192.168.1.5:9001'
 * ```
 */
export function peerListFrame(peers: readonly PeerAddress[]): Buffer {
  return encodeP2pFrame('PEERLIST', formatPeerList(peers));
}

/**
 * A chat MESSAGE frame carrying free text (any characters, spaces and newlines included).
 *
 * @example
 * ```ts
 * messageFrame('hi 👋').toString(); // 'MESSAGE 7 hi 👋'
 * ```
 */
export function messageFrame(text: string): Buffer {
  return encodeP2pFrame('MESSAGE', text);
}

type DecoderState = 'type' | 'length' | 'payload';

/**
 * Incremental decoder for one link: push each socket chunk, get the frames it completed. Frames may
 * be split anywhere (inside the type, the length or a UTF-8 character) and a chunk may hold many.
 *
 * Failures throw {@link SynackError} and leave the decoder dead (every later `push` rethrows):
 * `E_PROTOCOL` for an unknown type (as soon as the bytes cannot start a known type), a length that
 * is not plain decimal digits or has more than 15 digits, or a payload that is not valid UTF-8;
 * `E_FRAME_TOO_LARGE` for a declared length above `maxPayloadBytes`, before any payload is kept.
 *
 * @example
 * ```ts
 * const decoder = new P2pFrameDecoder({ types: ['GREETING', 'MESSAGE'] });
 * socket.on('data', (chunk: Buffer) => {
 *   try { actor.send({ type: 'frames', frames: decoder.push(chunk) }); }
 *   catch (error) { socket.destroy(); }
 * });
 * ```
 */
export class P2pFrameDecoder {
  readonly #types: ReadonlySet<string>;
  readonly #prefixes: ReadonlySet<string>;
  readonly #maxPayloadBytes: number;
  #state: DecoderState = 'type';
  #type = '';
  #digits = '';
  #headerBytes = 0;
  #payloadLength = 0;
  #parts: Buffer[] = [];
  #partBytes = 0;
  #error: SynackError | undefined;

  constructor(options: P2pFrameDecoderOptions = {}) {
    const types = options.types ?? P2P_FRAME_TYPES;
    const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) throw new SynackError('E_USAGE', `maxPayloadBytes must be a non-negative integer, got ${max}`);
    if (types.length === 0) throw new SynackError('E_USAGE', 'types must not be empty');
    for (const type of types) {
      if (!TYPE_PATTERN.test(type)) throw new SynackError('E_USAGE', `frame type must be printable ASCII without spaces: ${show(type)}`);
    }
    const prefixes = new Set<string>();
    for (const type of types) for (let i = 1; i <= type.length; i++) prefixes.add(type.slice(0, i));
    this.#types = new Set(types);
    this.#prefixes = prefixes;
    this.#maxPayloadBytes = max;
  }

  /** Bytes received and not yet returned as frames (header and payload of the frame in progress). */
  get pendingBytes(): number {
    return this.#headerBytes + this.#partBytes;
  }

  /** True while a frame has begun but not ended: what a link's 40 s "stopped half-way" timeout watches. */
  get hasPartialFrame(): boolean {
    return this.pendingBytes > 0;
  }

  /**
   * Decodes one chunk and returns the frames it completed, in order (often none, sometimes many).
   * Frames are appended to `frames` when given, so a caller that catches an error still has the
   * frames that preceded it in the same chunk.
   */
  push(chunk: Buffer, frames: P2pFrame[] = []): P2pFrame[] {
    if (this.#error) throw this.#error;
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      if (this.#state === 'payload') {
        const need = this.#payloadLength - this.#partBytes;
        if (end - i < need) {
          this.#parts.push(Buffer.from(chunk.subarray(i)));
          this.#partBytes += end - i;
          break;
        }
        const tail = chunk.subarray(i, i + need);
        i += need;
        const bytes = this.#parts.length === 0 ? tail : Buffer.concat([...this.#parts, tail], this.#payloadLength);
        this.#emit(bytes, frames);
        continue;
      }
      const byte = chunk[i++]!;
      this.#headerBytes++;
      if (this.#state === 'type') this.#typeByte(byte);
      else if (this.#lengthByte(byte)) this.#emit(EMPTY, frames);
    }
    return frames;
  }

  #typeByte(byte: number): void {
    if (byte === SPACE) {
      if (!this.#types.has(this.#type)) this.#fail('E_PROTOCOL', `unknown frame type ${show(this.#type)}`);
      this.#state = 'length';
      return;
    }
    const type = this.#type + String.fromCharCode(byte);
    if (!this.#prefixes.has(type)) this.#fail('E_PROTOCOL', `unknown frame type starting ${show(type)}`);
    this.#type = type;
  }

  /** Returns true when the header ended with a zero length, i.e. the frame is complete. */
  #lengthByte(byte: number): boolean {
    if (byte >= 0x30 && byte <= 0x39) {
      this.#digits += String.fromCharCode(byte);
      if (this.#digits.length > MAX_LENGTH_DIGITS) this.#fail('E_PROTOCOL', `${this.#type} length has more than ${MAX_LENGTH_DIGITS} digits`);
      return false;
    }
    if (byte !== SPACE || this.#digits === '') {
      this.#fail('E_PROTOCOL', `${this.#type} length is not a decimal number: ${show(this.#digits + String.fromCharCode(byte))}`);
    }
    const length = Number(this.#digits);
    if (length > this.#maxPayloadBytes) {
      this.#fail('E_FRAME_TOO_LARGE', `${this.#type} payload of ${length} bytes exceeds the limit of ${this.#maxPayloadBytes}`);
    }
    this.#payloadLength = length;
    this.#state = 'payload';
    return length === 0;
  }

  #emit(bytes: Buffer, frames: P2pFrame[]): void {
    if (!isUtf8(bytes)) this.#fail('E_PROTOCOL', `${this.#type} payload of ${bytes.length} bytes is not valid UTF-8`);
    frames.push({ type: this.#type, payload: bytes.toString('utf8') });
    this.#state = 'type';
    this.#type = '';
    this.#digits = '';
    this.#headerBytes = 0;
    this.#payloadLength = 0;
    this.#parts = [];
    this.#partBytes = 0;
  }

  #fail(code: 'E_PROTOCOL' | 'E_FRAME_TOO_LARGE', message: string): never {
    this.#error = new SynackError(code, message);
    this.#parts = [];
    this.#partBytes = 0;
    throw this.#error;
  }
}
