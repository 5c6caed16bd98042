/**
 * Before Train: what each preset would cost here, from a few timed steps on
 * this device, beside the accuracy it reached in the README's measured runs.
 */
import { PRESETS, type Preset } from '../model/config';
import { SETTINGS_SPEC, presetDefaults } from '../run/settings';
import type { PresetCost } from '../worker/protocol';
import { GOOD_ACCURACY, MEASURED_RUNS, epochSeconds, minutesToGood } from './presetCosts';
import { formatSeconds } from './progress';

export function PresetCostTable({
  costs,
  measuring,
  selected,
  epochs,
  trainImages,
}: {
  costs: Partial<Record<Preset, PresetCost | null>>;
  /** True while the worker may still send costs. */
  measuring: boolean;
  selected: string;
  /** The form's epochs, when valid; else the default. The selected model's run has these; the others, their own default. */
  epochs: number;
  trainImages: number;
}) {
  const label = (p: Preset) => SETTINGS_SPEC.preset.options.find((o) => o.value === p)?.label ?? p;
  return (
    <table className="preset-costs" data-testid="preset-costs">
      <caption>
        What each model costs here: {trainImages.toLocaleString('en-US')} training images; a run of the chosen model&apos;s {epochs} epoch
        {epochs === 1 ? '' : 's'}, of the others&apos; own
      </caption>
      <thead>
        <tr>
          <th scope="col">model</th>
          <th scope="col">images/s here</th>
          <th scope="col">one epoch</th>
          <th scope="col">the run</th>
          <th scope="col">test accuracy reached</th>
          <th scope="col">to {GOOD_ACCURACY * 100} % here (estimate)</th>
        </tr>
      </thead>
      <tbody>
        {PRESETS.map((preset) => {
          const cost = costs[preset];
          const epoch = cost ? epochSeconds(cost, trainImages, presetDefaults(preset).batchSize) : Number.NaN;
          const runEpochs = preset === selected ? epochs : presetDefaults(preset).epochs;
          const reached = MEASURED_RUNS[preset];
          const toGood = minutesToGood(reached, cost);
          return (
            <tr
              key={preset}
              data-preset={preset}
              data-images-per-second={cost?.imagesPerSecond}
              className={preset === selected ? 'selected' : undefined}
            >
              <th scope="row">{label(preset)}</th>
              <td>
                {cost
                  ? cost.imagesPerSecond.toFixed(cost.imagesPerSecond < 10 ? 1 : 0)
                  : cost === undefined && measuring
                    ? 'measuring…'
                    : '–'}
              </td>
              <td>{formatSeconds(epoch)}</td>
              <td data-epochs={runEpochs}>
                {formatSeconds(epoch * runEpochs)} ({runEpochs} epoch{runEpochs === 1 ? '' : 's'})
              </td>
              <td title={reached ? `${reached.command} (${reached.date})` : undefined}>
                {reached
                  ? `${(reached.accuracy * 100).toFixed(1)} %${reached.trainedBy === 'pytorch' ? ' (its steps trained by PyTorch)' : ''}`
                  : 'not measured yet'}
              </td>
              <td data-testid="minutes-to-good">
                {toGood !== null
                  ? formatSeconds(toGood * 60)
                  : !reached
                    ? 'not measured yet'
                    : reached.imagesTo80 === null
                      ? `does not reach ${GOOD_ACCURACY * 100} %`
                      : '–'}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
