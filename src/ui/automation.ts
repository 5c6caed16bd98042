/**
 * A read-only feed of run events for headless drivers (`npm run train`,
 * `npm run bench`). Playwright installs `window.__cifarAutomation` with
 * `exposeFunction`; in a normal visit it does not exist and nothing is sent.
 */
import type { FromWorker } from '../worker/protocol';

export type AutomationEvent =
  | Extract<FromWorker, { type: 'backend' | 'epoch-end' | 'error' | 'status' }>
  | { type: 'test-result'; result: Extract<FromWorker, { type: 'test-result' }>['result'] };

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
    case 'data-progress':
    case 'data-ready':
    case 'model':
    case 'batch-metrics':
    case 'storage':
    case 'checkpoint-found':
    case 'checkpoint-saved':
    case 'run-restored':
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
      return;
    default:
      message satisfies never;
  }
}
