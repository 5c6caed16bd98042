/**
 * Every failure the user can see is one of these. They cross the worker
 * boundary as plain data (`toErrorData`) and the UI turns them back into
 * words with `describeError`.
 */

export const ERROR_CODES = [
  'manifest-missing',
  'manifest-invalid',
  'shard-missing',
  'shard-checksum',
  'shard-truncated',
  'network',
  'backend-unavailable',
  'invalid-settings',
  'not-ready',
  'training-failed',
  'worker-crashed',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  override readonly name: string = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class DataError extends AppError {
  override readonly name = 'DataError';
  constructor(
    code: Extract<ErrorCode, 'manifest-missing' | 'manifest-invalid' | 'shard-missing' | 'shard-checksum' | 'shard-truncated' | 'network'>,
    message: string,
    /** The shard (or manifest) file the error is about. */
    readonly file?: string,
  ) {
    super(code, message);
  }
}

export class BackendError extends AppError {
  override readonly name = 'BackendError';
  constructor(message: string) {
    super('backend-unavailable', message);
  }
}

export class SettingsError extends AppError {
  override readonly name = 'SettingsError';
  constructor(
    message: string,
    /** Field name → message, for showing beside each field. */
    readonly fields: Record<string, string>,
  ) {
    super('invalid-settings', message);
  }
}

/** The plain-data form of an error, safe for `postMessage`. */
export interface ErrorData {
  name: string;
  code: ErrorCode;
  message: string;
  file?: string;
  fields?: Record<string, string>;
}

export function toErrorData(error: unknown): ErrorData {
  if (error instanceof AppError) {
    const data: ErrorData = { name: error.name, code: error.code, message: error.message };
    if (error instanceof DataError && error.file !== undefined) data.file = error.file;
    if (error instanceof SettingsError) data.fields = error.fields;
    return data;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'Error', code: 'internal', message };
}
