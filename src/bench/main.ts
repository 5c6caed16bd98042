/**
 * The benchmark page: a log, the "Benchmark this device" button (device.ts),
 * and `window.cifarBench.run(job)` (see protocol.ts), which `npm run bench`
 * and e2e/bench.spec.ts drive.
 */
import { sharedBytes } from '../train/replicas';
import { addCounts, perStep, summarizeCounts, zeroCounts, type Counts } from './counters';
import { benchmarkDevice, parseDeviceBenchOptions } from './device';
import type {
  BenchApi,
  BenchJob,
  BenchResult,
  CompareJob,
  CompareResult,
  FromBenchWorker,
  KernelProfile,
  SetupReply,
  StepsReply,
  ToBenchWorker,
  TrainJob,
  TrainTiming,
  WorkerJob,
} from './protocol';

const output = document.getElementById('log');
const show = (text: string) => {
  console.log(text);
  if (output) output.textContent += `${text}\n`;
};
const dataUrl = new URL('data/cifar10/', document.baseURI).href;

/** A fresh worker answering one request at a time. */
class BenchWorker {
  private readonly worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'bench' });
  private waiting: { resolve(value: unknown): void; reject(error: Error): void } | null = null;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<FromBenchWorker>) => {
      const message = event.data;
      if (message.type === 'log') return show(message.text);
      const waiting = this.waiting;
      this.waiting = null;
      if (message.type === 'reply') waiting?.resolve(message.value);
      else waiting?.reject(new Error(message.message));
    };
    this.worker.onerror = (event) => {
      this.waiting?.reject(new Error(`The benchmark worker failed: ${event.message}`));
      this.waiting = null;
    };
  }

  request<T>(message: ToBenchWorker): Promise<T> {
    if (this.waiting) return Promise.reject(new Error('A benchmark worker takes one request at a time'));
    return new Promise<T>((resolve, reject) => {
      this.waiting = { resolve: resolve as (value: unknown) => void, reject };
      this.worker.postMessage(message);
    });
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/**
 * The workers of one run: one, or `replicas` training one model together
 * (data parallelism, see src/train/replicas.ts). Requests go to all at once; a step
 * lasts until the slowest replica is done.
 */
class RunWorkers {
  readonly workers: BenchWorker[];

  constructor(readonly run: TrainJob) {
    this.workers = Array.from({ length: run.replicas ?? 1 }, () => new BenchWorker());
  }

  async setup(): Promise<SetupReply> {
    const replies = await Promise.all(this.workers.map((w) => w.request<SetupReply>({ type: 'setup', job: this.run, dataUrl })));
    const first = replies[0] as SetupReply;
    if (this.workers.length > 1) {
      const { batchSize } = this.run;
      const shared = new SharedArrayBuffer(sharedBytes(this.workers.length, first.params, batchSize));
      await Promise.all(
        this.workers.map((w, index) =>
          w.request<null>({ type: 'link', link: { index, count: this.workers.length, shared, params: first.params, batchSize } }),
        ),
      );
    }
    return first;
  }

  async steps(count: number): Promise<StepsReply> {
    const replies = await Promise.all(this.workers.map((w) => w.request<StepsReply>({ type: 'steps', count })));
    const sums = new Set(replies.map((r) => r.weightsChecksum));
    if (sums.size > 1) throw new Error(`The replicas' weights drifted apart (checksums ${[...sums].join(', ')})`);
    // The replicas make the same calls at the same time: the first one's counts stand for one.
    const counts = replies[0]?.counts;
    return {
      ms: Math.max(...replies.map((r) => r.ms)),
      gatherMs: Math.max(...replies.map((r) => r.gatherMs)),
      lastLoss: replies.reduce((s, r) => s + r.lastLoss, 0) / replies.length,
      ...(counts ? { counts } : {}),
    };
  }

  /** The first replica's kernels (the others ran the same ones at the same time). */
  async profile(): Promise<KernelProfile[]> {
    const replies = await Promise.all(this.workers.map((w) => w.request<KernelProfile[]>({ type: 'profile' })));
    return replies[0] as KernelProfile[];
  }

  terminate(): void {
    for (const w of this.workers) w.terminate();
  }
}

async function compare(job: CompareJob): Promise<CompareResult> {
  const groups = job.runs.map((run) => new RunWorkers(run));
  // A run that cannot train (e.g. the stock wasm backend, which has no weight
  // gradient) is reported with its error and left out of the later rounds.
  const failed: (string | null)[] = job.runs.map(() => null);
  const attempt = async <T>(i: number, request: () => Promise<T>): Promise<T | null> => {
    if (failed[i] !== null) return null;
    try {
      return await request();
    } catch (error) {
      failed[i] = (error as Error).message.split('\n')[0] ?? 'failed';
      show(`${job.runs[i]?.mode}#${i}: ${failed[i]}`);
      return null;
    }
  };
  try {
    const setups: (SetupReply | null)[] = [];
    for (const [i, group] of groups.entries()) setups.push(await attempt(i, () => group.setup()));
    const name = (i: number) => `${job.runs[i]?.mode}#${i}`;
    const first: number[] = [];
    for (const [i, group] of groups.entries()) {
      first.push((await attempt(i, () => group.steps(1)))?.ms ?? Number.NaN);
      show(`${name(i)}: first step ${first[i]?.toFixed(0)} ms`);
    }
    for (let s = 0; s < job.warmupSteps; s++) for (const [i, group] of groups.entries()) await attempt(i, () => group.steps(1));
    const totals = groups.map(() => 0);
    const gathers = groups.map(() => 0);
    const fastest = groups.map(() => Number.POSITIVE_INFINITY);
    const roundTimes: number[][] = groups.map(() => []);
    const lastLoss = groups.map(() => Number.NaN);
    // GPU API calls summed over the timed rounds only (the first step compiles and allocates).
    const counts: (Counts | null)[] = groups.map(() => null);
    for (let r = 0; r < job.rounds; r++) {
      for (const [i, group] of groups.entries()) {
        const reply = await attempt(i, () => group.steps(job.stepsPerRound));
        if (!reply) continue;
        totals[i] = (totals[i] as number) + reply.ms;
        gathers[i] = (gathers[i] as number) + reply.gatherMs;
        fastest[i] = Math.min(fastest[i] as number, reply.ms / job.stepsPerRound);
        roundTimes[i]?.push(reply.ms / job.stepsPerRound);
        lastLoss[i] = reply.lastLoss;
        if (reply.counts) counts[i] = addCounts(counts[i] ?? zeroCounts(), reply.counts);
        const counted = reply.counts ? `; in the round: ${summarizeCounts(reply.counts)}` : '';
        show(`${name(i)}: round ${r + 1}: ${(reply.ms / job.stepsPerRound).toFixed(0)} ms/step${counted}`);
      }
    }
    const profiles: (KernelProfile[] | null)[] = [];
    for (const [i, group] of groups.entries()) profiles.push(job.profile ? await attempt(i, () => group.profile()) : null);
    const steps = job.rounds * job.stepsPerRound;
    const runs: TrainTiming[] = job.runs.map((run, i) => {
      const setup = setups[i];
      const profile = profiles[i];
      const error = failed[i];
      const counted = counts[i];
      return {
        job: run,
        firstStepMs: first[i] as number,
        warmupMs: setup?.warmupMs ?? null,
        steps,
        msPerStep: error === null ? (totals[i] as number) / steps : Number.NaN,
        lastLoss: lastLoss[i] as number,
        gatherMsPerStep: error === null ? (gathers[i] as number) / steps : Number.NaN,
        fastestRoundMsPerStep: error === null ? (fastest[i] as number) : Number.NaN,
        roundMsPerStep: error === null ? (roundTimes[i] ?? []) : [],
        oursFilterGradient: setup?.oursFilterGradient ?? false,
        ...(setup?.kernelPlan ? { kernelPlan: setup.kernelPlan } : {}),
        registered: setup?.registered ?? [],
        adapter: setup?.adapter ?? '',
        ...(profile ? { profile } : {}),
        ...(counted && error === null && steps > 0 ? { countsPerStep: perStep(counted, steps) } : {}),
        ...(error !== null ? { error } : {}),
      };
    });
    return { kind: 'compare', runs };
  } finally {
    for (const group of groups) group.terminate();
  }
}

async function runOne(job: WorkerJob): Promise<BenchResult> {
  const worker = new BenchWorker();
  try {
    return await worker.request<BenchResult>({ type: 'job', job, dataUrl });
  } finally {
    worker.terminate();
  }
}

/** The button: runs the device benchmark with the URL's options and offers the report as a download. */
function wireDeviceButton(): void {
  const button = document.getElementById('device-bench') as HTMLButtonElement | null;
  const link = document.getElementById('device-report') as HTMLAnchorElement | null;
  const status = document.getElementById('device-status');
  if (!button || !link || !status) return;
  button.addEventListener('click', () => {
    let options;
    try {
      options = parseDeviceBenchOptions(location.search);
    } catch (error) {
      status.textContent = `Cannot start: ${(error as Error).message}.`;
      return;
    }
    button.disabled = true;
    link.hidden = true;
    status.textContent = `Benchmarking ${options.backends.join(', ')} with the ${options.preset} preset…`;
    const about = { date: new Date().toISOString(), userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency };
    benchmarkDevice(options, compare, about, show)
      .then((report) => {
        const blob = new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' });
        if (link.href) URL.revokeObjectURL(link.href);
        link.href = URL.createObjectURL(blob);
        link.download = `cifar10-bench-${report.date.slice(0, 10)}.json`;
        link.hidden = false;
        const lines = report.results.map((r) =>
          r.speedup !== null
            ? `${r.backend} ${r.speedup.toFixed(2)}× the baseline`
            : `${r.backend} could not train (${r.runs[0]?.error ?? r.runs[1]?.error ?? 'unknown'})`,
        );
        status.textContent = `Done: ${lines.join('; ')}.`;
      })
      .catch((error: unknown) => {
        status.textContent = `The benchmark failed: ${(error as Error).message}`;
      })
      .finally(() => {
        button.disabled = false;
      });
  });
}
wireDeviceButton();

const api: BenchApi = { run: (job: BenchJob) => (job.kind === 'compare' ? compare(job) : runOne(job)) };
(window as unknown as { cifarBench: BenchApi }).cifarBench = api;
document.body.dataset.ready = 'true';
