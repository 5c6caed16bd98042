import type { ErrorData } from '../errors';

/** What to tell the user to do next, per error code; the message itself says what happened. */
const NEXT_STEP: Record<ErrorData['code'], string> = {
  'manifest-missing': 'Run "npm run data" (or "npm start", which prepares the data) and reload.',
  'manifest-invalid': 'Rebuild the data with "npm run data -- --force" and reload.',
  'shard-missing': 'The data folder is incomplete: rebuild it with "npm run data -- --force" and reload.',
  'shard-checksum': 'Rebuild the data with "npm run data -- --force" and reload.',
  'shard-truncated': 'Check your connection and reload; if it keeps happening, rebuild the data with "npm run data -- --force".',
  network: 'Check that the server is still running, then reload.',
  'backend-unavailable': 'Try another backend, or open the page without "?backend=" to pick one automatically.',
  'invalid-settings': 'Correct the highlighted settings.',
  'not-ready': 'Wait for the current step to finish.',
  'training-failed': 'Reload the page to start again.',
  'worker-crashed': 'Reload the page to restart the trainer.',
  internal: 'Reload the page; if it happens again, please report it.',
};

export function describeError(error: ErrorData): { message: string; nextStep: string } {
  return { message: error.message, nextStep: NEXT_STEP[error.code] };
}
