/**
 * Stable error codes. A code never changes meaning once released; new failures get new codes.
 */
export type SynackErrorCode =
  | 'E_ADDR_IN_USE'
  | 'E_ADDR_NOT_AVAILABLE'
  | 'E_ACCESS'
  | 'E_CONN_REFUSED'
  | 'E_CONN_RESET'
  | 'E_HOST_NOT_FOUND'
  | 'E_HOST_UNREACHABLE'
  | 'E_TIMEOUT'
  | 'E_SOCKET'
  | 'E_SLOW_CONSUMER'
  | 'E_MAX_CLIENTS'
  | 'E_NOT_CONNECTED'
  | 'E_FRAME_TOO_LARGE'
  | 'E_PROTOCOL'
  | 'E_UNSAFE_NAME'
  | 'E_BAD_HEX'
  | 'E_DEAD_PEER'
  | 'E_IDLE'
  | 'E_NOT_FOUND'
  | 'E_DISK_FULL'
  | 'E_FILE_EXISTS'
  | 'E_TRANSFER_SHORT'
  | 'E_TRANSFER_OVERLONG'
  | 'E_CANCELLED'
  | 'E_NAME_TAKEN'
  | 'E_USAGE';

/** The plain, serialisable form of an error, as machines keep it in `context.lastError`. */
export interface SynackErrorInfo {
  code: SynackErrorCode;
  message: string;
  errno?: string;
}

const ERRNO_CODES: Record<string, SynackErrorCode> = {
  EADDRINUSE: 'E_ADDR_IN_USE',
  EADDRNOTAVAIL: 'E_ADDR_NOT_AVAILABLE',
  EACCES: 'E_ACCESS',
  EPERM: 'E_ACCESS',
  ECONNREFUSED: 'E_CONN_REFUSED',
  ECONNRESET: 'E_CONN_RESET',
  EPIPE: 'E_CONN_RESET',
  ECONNABORTED: 'E_CONN_RESET',
  ENOTFOUND: 'E_HOST_NOT_FOUND',
  EAI_AGAIN: 'E_HOST_NOT_FOUND',
  EAI_FAIL: 'E_HOST_NOT_FOUND',
  EHOSTUNREACH: 'E_HOST_UNREACHABLE',
  ENETUNREACH: 'E_HOST_UNREACHABLE',
  ETIMEDOUT: 'E_TIMEOUT',
  ENOENT: 'E_NOT_FOUND',
  ENOSPC: 'E_DISK_FULL',
  EDQUOT: 'E_DISK_FULL',
  EEXIST: 'E_FILE_EXISTS',
  EROFS: 'E_ACCESS',
};

/**
 * The one error class of synack. `code` is stable and meant for programs; `message` is for people;
 * the original Node error (with its errno) is the `cause`.
 *
 * @example
 * ```ts
 * try { await server.listen() } catch (err) {
 *   if (err instanceof SynackError && err.code === 'E_ADDR_IN_USE') console.error('pick another port')
 * }
 * ```
 */
export class SynackError extends Error {
  override readonly name = 'SynackError';
  readonly code: SynackErrorCode;

  constructor(code: SynackErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Wraps any thrown value, mapping Node errnos (ECONNREFUSED…) to stable codes. */
  static from(error: unknown, context?: string): SynackError {
    if (error instanceof SynackError) return error;
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    const code = (errno && ERRNO_CODES[errno]) || 'E_SOCKET';
    const base = error instanceof Error ? error.message : String(error);
    return new SynackError(code, context ? `${context}: ${base}` : base, { cause: error });
  }

  /** Rebuilds an error from its plain form (as kept in machine context). */
  static fromInfo(info: SynackErrorInfo): SynackError {
    return new SynackError(info.code, info.message);
  }

  /** The plain, serialisable form kept in machine context and printed by `--json`. */
  toInfo(): SynackErrorInfo {
    const errno = (this.cause as NodeJS.ErrnoException | undefined)?.code;
    return errno ? { code: this.code, message: this.message, errno } : { code: this.code, message: this.message };
  }
}

/** Shorthand for `SynackError.from(error, context).toInfo()`. */
export function errorInfo(error: unknown, context?: string): SynackErrorInfo {
  return SynackError.from(error, context).toInfo();
}
