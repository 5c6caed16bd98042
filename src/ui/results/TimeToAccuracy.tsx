/**
 * "How good, how soon": when validation accuracy first reached each
 * threshold (time from Train, images seen, epoch), and, while the run goes
 * on, when it should reach the next one — or, plainly, why that can't be
 * told yet.
 */
import { ACCURACY_THRESHOLDS, estimateNext, timeToAccuracy } from '../../run/timeToAccuracy';
import type { EpochRecord } from '../../run/records';
import { formatSeconds } from '../progress';

const pct = (fraction: number) => `${Math.round(fraction * 100)} %`;

/** The whole table: the results panel's, after the run. */
export function TimeToAccuracyTable({ epochs }: { epochs: readonly EpochRecord[] }) {
  const reached = timeToAccuracy(epochs);
  const missed = ACCURACY_THRESHOLDS.filter((t) => !reached.some((r) => r.threshold === t));
  const best = Math.max(0, ...epochs.map((e) => e.valAccuracy ?? 0));
  const validated = epochs.some((e) => e.valAccuracy !== null);
  return (
    <div data-testid="time-to-accuracy">
      <h3>Time to accuracy</h3>
      {!validated ? (
        <p className="hint">No validation set in this run, so no time to accuracy.</p>
      ) : (
        <table className="levels">
          <caption>When the validation accuracy first reached each level, from Train (pauses excluded)</caption>
          <thead>
            <tr>
              <th scope="col">validation accuracy</th>
              <th scope="col">time</th>
              <th scope="col">training images</th>
              <th scope="col">epoch</th>
            </tr>
          </thead>
          <tbody>
            {reached.map((r) => (
              <tr key={r.threshold} data-threshold={r.threshold} data-seconds={r.seconds.toFixed(1)}>
                <th scope="row">≥ {pct(r.threshold)}</th>
                <td>{formatSeconds(r.seconds)}</td>
                <td>{r.images === null ? '–' : r.images.toLocaleString('en-US')}</td>
                <td>{r.epoch}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {validated && missed.length > 0 && (
        <p className="hint" data-testid="time-to-accuracy-missed">
          Not reached: {missed.map(pct).join(', ')} (best {(best * 100).toFixed(1)} %).
        </p>
      )}
    </div>
  );
}

/** One line for the dashboard while the run trains. */
export function NextThresholdLine({ epochs, plannedEpochs }: { epochs: readonly EpochRecord[]; plannedEpochs: number }) {
  if (!epochs.some((e) => e.valAccuracy !== null)) return null;
  const next = estimateNext(epochs, plannedEpochs);
  const last = timeToAccuracy(epochs).at(-1);
  const reached = last ? `${pct(last.threshold)} reached after ${formatSeconds(last.seconds)}` : 'no level reached yet';
  const ahead =
    next.kind === 'all-reached'
      ? 'every level reached'
      : next.kind === 'estimate'
        ? `${pct(next.threshold)} expected around epoch ${next.epoch}, ${formatSeconds(next.seconds)} after Train`
        : `${pct(next.threshold)}: ${next.reason}`;
  return (
    <p className="hint" data-testid="next-threshold">
      Validation accuracy: {reached}; {ahead}.
    </p>
  );
}
