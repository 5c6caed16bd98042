/**
 * The failures `npm run data` expects: bad input, no network, a full disk.
 * The CLI prints these as one `error: …` line without a stack; anything else
 * is a bug and keeps its stack.
 */

export const CONVERT_ERROR_CODES = [
  'usage',
  'archive-missing',
  'archive-unreadable',
  'archive-corrupt',
  'member-missing',
  'member-size',
  'bad-label',
  'bad-classes',
  'download-failed',
  'checksum-mismatch',
  'output-failed',
] as const;

export type ConvertErrorCode = (typeof CONVERT_ERROR_CODES)[number];

export class ConvertError extends Error {
  override readonly name = 'ConvertError';
  constructor(
    readonly code: ConvertErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True for the error a stream or fetch rejects with when its AbortSignal fires (e.g. Ctrl-C). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
