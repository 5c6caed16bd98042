/**
 * "Benchmark this device" (bench.html's button): the side-by-side training
 * step, ours against the tfjs-layers baseline, on each backend this browser
 * has, with the GPU call counters and one profiled step each, as one JSON
 * report a user can download and send us. Pure apart from the `compare` it is
 * given (main.ts's), so the report's shape is unit-tested.
 */
import { PRESETS, type Preset } from '../model/config';
import { TUNE_MODES, type TuneMode } from '../worker/protocol';
import { BENCH_BACKENDS, type BenchBackend, type CompareJob, type CompareResult, type TrainTiming } from './protocol';

export interface DeviceBenchOptions {
  preset: Preset;
  /** Images per step. Unit: images. */
  batchSize: number;
  /** Timed steps per trainer and backend, after the first (compiling) step and one more untimed one. */
  steps: number;
  backends: BenchBackend[];
  /** Ours' convolution formulations: timed on this device first or not, as the app's `?tune=`. */
  tune: TuneMode;
}

/** What the button runs unless the page's URL says otherwise (?preset=…&batchSize=…&steps=…&backends=a,b&tune=…). */
export const DEVICE_BENCH_DEFAULTS: Readonly<DeviceBenchOptions> = Object.freeze<DeviceBenchOptions>({
  preset: 'seed', // the network users train by default
  batchSize: 64, // images per step, the app's default batch
  steps: 10, // timed steps per trainer: a few seconds on a real GPU, long on a software one
  backends: ['webgpu', 'webgl', 'wasm'], // cpu left out: minutes per step
  tune: 'auto', // as the app: timed on a hardware GPU, the static plan on a software one
});

/** Reads the options from a query string; unknown keys and bad values are errors naming them. */
export function parseDeviceBenchOptions(search: string): DeviceBenchOptions {
  const params = new URLSearchParams(search);
  const options: DeviceBenchOptions = { ...DEVICE_BENCH_DEFAULTS, backends: [...DEVICE_BENCH_DEFAULTS.backends] };
  for (const [key, value] of params) {
    switch (key) {
      case 'preset':
        if (!PRESETS.includes(value as Preset)) throw new RangeError(`preset must be one of ${PRESETS.join(', ')}, got "${value}"`);
        options.preset = value as Preset;
        break;
      case 'batchSize':
      case 'steps': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 1024) throw new RangeError(`${key} must be a whole number from 1 to 1024, got "${value}"`);
        options[key] = n;
        break;
      }
      case 'backends': {
        const names = value.split(',').filter((b) => b !== '');
        const unknown = names.filter((b) => !BENCH_BACKENDS.includes(b as BenchBackend));
        if (names.length === 0 || unknown.length > 0)
          throw new RangeError(`backends must be a comma-separated list of ${BENCH_BACKENDS.join(', ')}, got "${value}"`);
        options.backends = names as BenchBackend[];
        break;
      }
      case 'tune':
        if (!TUNE_MODES.includes(value as TuneMode)) throw new RangeError(`tune must be one of ${TUNE_MODES.join(', ')}, got "${value}"`);
        options.tune = value as TuneMode;
        break;
      default:
        throw new RangeError(`Unknown benchmark setting "${key}"`);
    }
  }
  return options;
}

export interface DeviceBackendReport {
  backend: BenchBackend;
  /** The adapter or renderer as the backend named it; '' where it did not start. */
  adapter: string;
  /** Ours and the baseline: times, counters per step, one profiled step (see TrainTiming). */
  runs: TrainTiming[];
  /** Baseline ms per step over ours; null where either could not train. */
  speedup: number | null;
}

export interface DeviceReport {
  kind: 'cifar10-device-bench';
  version: 1;
  /** ISO 8601, when the report was made. */
  date: string;
  userAgent: string;
  /** Logical cores the browser reports. */
  cores: number;
  options: DeviceBenchOptions;
  results: DeviceBackendReport[];
}

/** The compare job of one backend: ours and the baseline, interleaved, profiled once. */
export function deviceCompareJob(options: DeviceBenchOptions, backend: BenchBackend): CompareJob {
  const run = {
    kind: 'train',
    backend,
    preset: options.preset,
    batchSize: options.batchSize,
    shaderWarmup: false,
    optimizer: 'adam',
    augment: true,
  } as const;
  return {
    kind: 'compare',
    runs: [
      { ...run, mode: 'ours', tune: options.tune },
      { ...run, mode: 'baseline' },
    ],
    warmupSteps: 1,
    rounds: options.steps,
    stepsPerRound: 1,
    profile: true,
  };
}

/** Runs every backend in turn; one that cannot start is reported with its error, not fatal. */
export async function benchmarkDevice(
  options: DeviceBenchOptions,
  compare: (job: CompareJob) => Promise<CompareResult>,
  about: { date: string; userAgent: string; cores: number },
  log: (line: string) => void = () => {},
): Promise<DeviceReport> {
  const results: DeviceBackendReport[] = [];
  for (const backend of options.backends) {
    log(`${backend}: ours and the baseline, ${options.steps} timed steps each…`);
    const { runs } = await compare(deviceCompareJob(options, backend));
    const [ours, baseline] = runs;
    const trained = ours && baseline && !ours.error && !baseline.error && ours.msPerStep > 0;
    results.push({
      backend,
      adapter: ours?.adapter ?? '',
      runs,
      speedup: trained ? baseline.msPerStep / ours.msPerStep : null,
    });
  }
  return { kind: 'cifar10-device-bench', version: 1, ...about, options, results };
}
