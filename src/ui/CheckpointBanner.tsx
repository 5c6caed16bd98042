/**
 * "Resume from epoch N" / "Start over" for a run an earlier visit left
 * unfinished, and, while training, whether checkpoints are being saved.
 */
import { describeError } from './errorText';
import type { ModelsState } from './modelsState';
import type { ModelsActions } from './useModels';

export function CheckpointBanner({
  models,
  actions,
  canResume,
  running,
}: {
  models: ModelsState;
  actions: ModelsActions;
  canResume: boolean;
  running: boolean;
}) {
  const { checkpoint, storage, lastSaved } = models;
  return (
    <>
      {checkpoint && !running && (
        <section className="panel checkpoint" aria-label="Unfinished run" data-testid="checkpoint" data-epoch={checkpoint.epoch}>
          <p>
            A run was interrupted after epoch <strong>{checkpoint.epoch}</strong> of {checkpoint.settings.epochs} (
            {checkpoint.settings.preset}, {checkpoint.settings.color === 'gray' ? 'grayscale' : 'RGB'}, step {checkpoint.step}, saved{' '}
            {new Date(checkpoint.savedAt).toLocaleString()}).
          </p>
          <div className="controls">
            <button type="button" className="primary" data-testid="resume" disabled={!canResume} onClick={actions.resumeCheckpoint}>
              {checkpoint.stopped || checkpoint.epoch >= checkpoint.settings.epochs
                ? 'Finish the run (test evaluation)'
                : `Resume from epoch ${checkpoint.epoch + 1}`}
            </button>
            <button type="button" data-testid="start-over" onClick={actions.startOver}>
              Start over
            </button>
          </div>
          {!canResume && <p className="hint">Resume is possible once the data set has loaded.</p>}
        </section>
      )}
      {storage && !storage.checkpoints && (
        <p className="warning" role="status" data-testid="checkpoints-off">
          Checkpoints are off: {storage.error ? describeError(storage.error).message : 'no storage'} Training still runs, but a closed tab
          loses it.
        </p>
      )}
      {(running || lastSaved) && storage?.checkpoints && (
        <p
          className="hint"
          data-testid="checkpoint-status"
          data-epoch={lastSaved?.epoch ?? 0}
          data-step={lastSaved?.step ?? 0}
          data-optimizer-step={lastSaved?.optimizerStep ?? 0}
        >
          {lastSaved
            ? `Checkpoint saved after epoch ${lastSaved.epoch} (step ${lastSaved.step}).`
            : 'A checkpoint is saved after every epoch.'}
        </p>
      )}
    </>
  );
}
