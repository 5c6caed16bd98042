/**
 * The run's status for everyone: a visible badge, announced by screen readers
 * when it changes (a `status` region), and a quieter line that announces each
 * finished epoch and the test result — never every step.
 */
import type { AppState } from './state';

export function StatusLine({ state }: { state: AppState }) {
  return (
    <div className="status-line">
      <p role="status" aria-atomic="true">
        Status:{' '}
        <span className={`badge status-${state.status}`} data-testid="status">
          {state.status}
        </span>
      </p>
      <p className="sr-only" aria-live="polite" data-testid="announcement">
        {announcement(state)}
      </p>
    </div>
  );
}

/** What a screen reader hears as a run progresses: the latest finished epoch, then the test result. */
export function announcement(state: Pick<AppState, 'epochs' | 'totalEpochs' | 'test'>): string {
  if (state.test) {
    const { accuracy, count } = state.test.result;
    return `Training finished. Test accuracy ${(accuracy * 100).toFixed(2)}% on ${count.toLocaleString('en-US')} test images.`;
  }
  const last = state.epochs.at(-1);
  if (!last) return '';
  const validation = last.valAccuracy === null ? '' : `: validation accuracy ${(last.valAccuracy * 100).toFixed(1)}%`;
  return `Epoch ${last.epoch} of ${state.totalEpochs} finished${validation}.`;
}
