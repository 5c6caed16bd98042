/**
 * Measures what each preset costs on this device once the data and the
 * backend are ready (or takes it from an earlier visit's measurement), and
 * keeps new measurements for the next visit.
 */
import { useEffect, useRef, type Dispatch } from 'react';
import { PRESETS } from '../model/config';
import { DEFAULT_SETTINGS } from '../run/settings';
import type { TrainerClient } from '../worker/client';
import type { FromWorker } from '../worker/protocol';
import { CPU_CLASS, cachedCost, fittingPreset, probeBatch, storeCost, trainImagesFor, type CostStore } from './presetCosts';
import type { AppState, LocalAction } from './state';

/** localStorage when the browser allows it (a privacy mode may not): without it, every visit measures again. */
function costStore(): CostStore | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function usePresetCosts(
  client: TrainerClient,
  state: Pick<AppState, 'backend' | 'status' | 'data' | 'presetCosts'>,
  dispatch: Dispatch<FromWorker | LocalAction>,
  /** False for automated runs (`?autostart=1`), which train at once and need no estimate. */
  enabled: boolean,
): void {
  const asked = useRef<string | null>(null);
  const { backend } = state;
  const ready = state.status === 'ready' && state.data !== undefined;

  useEffect(() => {
    if (!enabled || !backend || !ready) return;
    const device = `${backend.name}:${backend.adapter}`;
    if (asked.current === device) return;
    asked.current = device;
    const store = costStore();
    const missing = [];
    for (const preset of PRESETS) {
      const cached = store ? cachedCost(store, backend.name, backend.adapter, preset) : undefined;
      if (cached) dispatch({ type: 'preset-cost', preset, cost: cached });
      else missing.push({ preset, batchSize: probeBatch(preset, backend.name) });
    }
    if (missing.length > 0) client.measurePresets(missing);
  }, [enabled, backend, ready, client, dispatch]);

  useEffect(() => {
    const store = costStore();
    if (!store) return;
    try {
      for (const cost of Object.values(state.presetCosts)) if (cost) storeCost(store, cost);
    } catch (error) {
      console.warn('Could not keep the measured preset costs', error);
    }
  }, [state.presetCosts]);
}

/** The form's numbers as far as they are valid, for estimates; the defaults where they are not. */
export function estimateInputs(values: Record<string, string>, totalTrain: number) {
  const number = (text: string | undefined, fallback: number, ok: (n: number) => boolean) => {
    const n = Number(text);
    return text !== undefined && text.trim() !== '' && ok(n) ? n : fallback;
  };
  const epochs = number(values.epochs, DEFAULT_SETTINGS.epochs, (n) => Number.isInteger(n) && n >= 1);
  const validationShare = number(values.validationShare, DEFAULT_SETTINGS.validationShare, (n) => n >= 0 && n <= 0.5);
  const trainLimit = number(values.trainLimit, 0, (n) => Number.isInteger(n) && n >= 0);
  return { epochs, trainImages: trainImagesFor({ validationShare, trainLimit }, totalTrain) };
}

/**
 * On a CPU-class backend, offers the preset that finishes a run of the
 * default length in CPU_RUN_BUDGET_S here, once every preset is measured
 * (unless the user, the URL or a resumed run chose one). Once: the form does
 * not change under the user's hands afterwards.
 */
export function useCpuDefault(
  state: Pick<AppState, 'backend' | 'data' | 'presetCosts'>,
  values: Record<string, string>,
  suggest: (preset: string) => void,
): void {
  const backend = state.backend?.name;
  const total = state.data?.counts.train;
  const { trainImages } = estimateInputs(values, total ?? 0);
  const offered = useRef(false);
  useEffect(() => {
    if (offered.current || !backend || !CPU_CLASS.includes(backend) || total === undefined) return;
    const fit = fittingPreset(state.presetCosts, trainImages);
    if (!fit) return;
    offered.current = true;
    suggest(fit);
  }, [backend, total, trainImages, state.presetCosts, suggest]);
}
