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
  'load-cancelled',
  'backend-unavailable',
  'invalid-settings',
  'not-ready',
  'training-failed',
  'training-elsewhere',
  'image-undecodable',
  'image-too-large',
  'dataset-invalid',
  'no-model',
  'model-invalid',
  'storage-unavailable',
  'checkpoint-invalid',
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

/** The codes a failed data load ends with; after any of them the page offers Retry. */
export const DATA_ERROR_CODES = [
  'manifest-missing',
  'manifest-invalid',
  'shard-missing',
  'shard-checksum',
  'shard-truncated',
  'network',
  'load-cancelled',
] as const satisfies readonly ErrorCode[];

/** Another tab's run holds the training lock (see TRAINING_LOCK in worker/protocol.ts). */
export const trainingElsewhere = () =>
  new AppError(
    'training-elsewhere',
    'Another tab of this app is training. Only one run at a time can save checkpoints, so this one did not start.',
  );

export class DataError extends AppError {
  override readonly name = 'DataError';
  constructor(
    code: (typeof DATA_ERROR_CODES)[number],
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

/** A file dropped for classification that cannot be turned into the model's 32 × 32 input. */
export class ImageError extends AppError {
  override readonly name = 'ImageError';
  constructor(
    code: Extract<ErrorCode, 'image-undecodable' | 'image-too-large'>,
    message: string,
    /** The file's name as the user chose it. */
    readonly file?: string,
  ) {
    super(code, message);
  }
}

/** A dropped folder or zip of the user's own classes that cannot be a data set as it is laid out. */
export class DataSetError extends AppError {
  override readonly name = 'DataSetError';
  constructor(message: string) {
    super('dataset-invalid', message);
  }
}

/** A model file (import) or stored model that is refused before anything is loaded from it. */
export class ModelFileError extends AppError {
  override readonly name = 'ModelFileError';
  constructor(message: string) {
    super('model-invalid', message);
  }
}

/** IndexedDB is missing, full, or holds a checkpoint we cannot use. */
export class StorageError extends AppError {
  override readonly name = 'StorageError';
  constructor(
    code: Extract<ErrorCode, 'storage-unavailable' | 'checkpoint-invalid'>,
    message: string,
    /** The browser's own exception (QuotaExceededError, …), for the console. */
    override readonly cause?: unknown,
  ) {
    super(code, message);
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
    if ((error instanceof DataError || error instanceof ImageError) && error.file !== undefined) data.file = error.file;
    if (error instanceof SettingsError) data.fields = error.fields;
    return data;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'Error', code: 'internal', message };
}
