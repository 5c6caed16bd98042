import type { ErrorData } from '../errors';

/** What to tell the user to do next, per error code; the message itself says what happened. */
const NEXT_STEP: Record<ErrorData['code'], string> = {
  'manifest-missing': 'Run "npm run data" (or "npm start", which prepares the data) and reload.',
  'manifest-invalid': 'Rebuild the data with "npm run data -- --force" and reload.',
  'shard-missing': 'The data folder is incomplete: rebuild it with "npm run data -- --force" and reload.',
  'shard-checksum': 'Rebuild the data with "npm run data -- --force" and reload.',
  'shard-truncated': 'Check your connection and press Retry; if it keeps happening, rebuild the data with "npm run data -- --force".',
  network: 'Check that the server is still running, then press Retry.',
  'load-cancelled': 'Press Retry to continue loading.',
  'backend-unavailable': 'Try another backend, or open the page without "?backend=" to pick one automatically.',
  'invalid-settings': 'Correct the highlighted settings.',
  'not-ready': 'Wait for the current step to finish.',
  'training-failed': 'Reload the page to start again.',
  'training-elsewhere': 'Finish or stop the run in the other tab (or close it), then press Train here again.',
  'image-undecodable': 'Use a JPEG, PNG, GIF, WebP, BMP or AVIF picture; the other files are not affected.',
  'image-too-large': 'Use a smaller copy of the picture; the other files are not affected.',
  'dataset-invalid':
    'Lay the pictures out one folder per class and drop the folder or zip again; the data set already loaded is unchanged.',
  'no-model': 'Train a model or open one from the library; the pictures wait here until then.',
  'model-invalid': 'Choose the model.json and the .bin file exported by this app (or by TensorFlow.js); the current model is unchanged.',
  'storage-unavailable': 'Training goes on without checkpoints; allow site storage or free disk space to have them again.',
  'checkpoint-invalid': 'Start a new run; the saved one has been discarded.',
  'worker-crashed': 'Restart the trainer; saved checkpoints are kept.',
  internal: 'Reload the page; if it happens again, please report it.',
};

export function describeError(error: ErrorData): { message: string; nextStep: string } {
  return { message: error.message, nextStep: NEXT_STEP[error.code] };
}
