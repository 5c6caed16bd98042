/**
 * A read-only feed of run events for headless drivers (`npm run train`,
 * `npm run bench`). Playwright installs `window.__cifarAutomation` with
 * `exposeFunction`; in a normal visit it does not exist and nothing is sent.
 */
import type { EpochRecord } from '../run/records';
import type { Settings } from '../run/settings';
import type { FromWorker } from '../worker/protocol';

export type AutomationEvent =
  | Extract<FromWorker, { type: 'backend' | 'epoch-end' | 'error' | 'status' }>
  | { type: 'test-result'; result: Extract<FromWorker, { type: 'test-result' }>['result'] }
  /** A resumed run's settings and epochs so far (not its per-step metrics): the driver's figures cover the whole run. */
  | { type: 'run-restored'; settings: Settings; epochs: EpochRecord[] };

declare global {
  interface Window {
    __cifarAutomation?: (event: AutomationEvent) => void;
  }
}

export function forwardToAutomation(message: FromWorker): void {
  const hook = window.__cifarAutomation;
  if (typeof hook !== 'function') return;
  switch (message.type) {
    case 'backend':
    case 'epoch-end':
    case 'error':
    case 'status':
      hook(message);
      return;
    case 'test-result':
      // Without the image pixels: the driver needs numbers only.
      hook({ type: 'test-result', result: message.result });
      return;
    case 'run-restored':
      hook({ type: 'run-restored', settings: message.settings, epochs: message.epochs });
      return;
    case 'data-progress':
    case 'data-ready':
    case 'model':
    case 'batch-metrics':
    case 'storage':
    case 'checkpoint-found':
    case 'checkpoint-saved':
    case 'classifier':
    case 'classified':
    case 'library':
    case 'model-files':
    case 'handover-archive':
    case 'model-error':
    case 'notice':
    case 'preset-cost':
    case 'run-plan':
    case 'kernel-plan':
    case 'test-images':
    case 'import-progress':
    case 'import-done':
    case 'import-failed':
    case 'data-archive':
      return;
    default:
      message satisfies never;
  }
}
