/**
 * What the dashboard specs share: a short run, the training worker's metric
 * messages as it sent them, main-thread long tasks, SVG line vertices, and a
 * check that nothing on the page is wider than the viewport.
 */
import type { Locator, Page } from '@playwright/test';
import { dropFiles } from './drop';
import { expect, SAMPLE_LOADED } from './fixtures';
import { png } from './images';

/** 1,024 images at 32 per batch, 2 epochs: 64 steps, metrics every 10 steps and at each epoch's end; 200 test images. */
export const SHORT_RUN = 'preset=tiny&epochs=2&batchSize=32&trainLimit=1024&testLimit=200&backend=wasm';

/** Run in the training worker before its own script: keeps every metric and epoch record it posts, as posted. */
export const RECORD_WORKER_MESSAGES = `
self.__sent = { metrics: [], epochs: [] };
{
  const post = self.postMessage.bind(self);
  self.postMessage = (message, transfer) => {
    if (message && message.type === 'batch-metrics') self.__sent.metrics.push(...message.metrics);
    if (message && message.type === 'epoch-end') self.__sent.epochs.push(message.record);
    return post(message, transfer ?? []);
  };
}
`;

export interface SentMetrics {
  metrics: { epoch: number; batchInEpoch: number; batchesPerEpoch: number; loss: number; accuracy: number }[];
  epochs: { epoch: number; valLoss: number | null; valAccuracy: number | null }[];
}

/** What the training worker posted (needs RECORD_WORKER_MESSAGES). */
export async function sentByWorker(page: Page): Promise<SentMetrics> {
  const worker = page.workers().find((w) => w.url().includes('trainer.worker'));
  if (!worker) throw new Error('No training worker');
  return worker.evaluate(() => (self as unknown as { __sent: SentMetrics }).__sent);
}

/** Marks in the page's timeline (User Timing), found again in the browser's trace. */
export const RUN_START = 'e2e-run-start';
export const RUN_DONE = 'e2e-run-done';

/**
 * From page load: every main-thread task over 50 ms (Long Tasks API), the
 * moment the status first reads `done`, and the longest stall of a 10 ms
 * timer (an estimate of the longest task, long or not). Times in ms, page clock.
 */
export async function watchMainThread(page: Page): Promise<void> {
  await page.addInitScript((doneMark) => {
    const w = window as unknown as {
      __main: { longTasks: { start: number; duration: number }[]; doneAt: number | null; stalls: { at: number; ms: number }[] };
    };
    w.__main = { longTasks: [], doneAt: null, stalls: [] };
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__main.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      w.__main.stalls.push({ at: last, ms: now - last - 10 });
      last = now;
    }, 10);
    new MutationObserver(() => {
      if (w.__main.doneAt !== null || document.querySelector('[data-testid="status"]')?.textContent !== 'done') return;
      w.__main.doneAt = performance.now();
      performance.mark(doneMark);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  }, RUN_DONE);
}

/** Marks the start of the run (call just before pressing Train); returns the page clock's time. */
export const markRunStart = (page: Page) =>
  page.evaluate((name) => {
    performance.mark(name);
    return performance.now();
  }, RUN_START);

/**
 * Records the browser's trace: for every task of the page's main thread, its
 * wall time and its thread (CPU) time. On a machine busy with other work, a
 * task can take far longer on the wall clock than it ran: the CPU time tells
 * the page's own work from the wait for a core.
 */
export async function startTrace(page: Page): Promise<() => Promise<{ wall: number; cpu: number; at: number }[]>> {
  const browser = page.context().browser();
  if (!browser) throw new Error('No browser to trace');
  await browser.startTracing(page, { categories: ['toplevel', 'blink.user_timing'] });
  return async () => {
    interface TraceEvent {
      name: string;
      ph: string;
      pid: number;
      tid: number;
      ts: number;
      dur?: number;
      tdur?: number;
    }
    const parsed = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] } | TraceEvent[];
    const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
    const start = events.find((e) => e.name === RUN_START);
    const done = events.find((e) => e.name === RUN_DONE);
    if (!start || !done) throw new Error('The run marks are not in the trace');
    // The marks were made on the page's main thread: its tasks are those of that thread, between them. Times in ms from the start.
    return events
      .filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && e.tid === start.tid && e.pid === start.pid)
      .filter((e) => e.ts + (e.dur ?? 0) >= start.ts && e.ts <= done.ts)
      .map((e) => ({ at: (e.ts - start.ts) / 1000, wall: (e.dur ?? 0) / 1000, cpu: (e.tdur ?? 0) / 1000 }));
  };
}

/** Long tasks, and the longest timer stall, between `from` and the moment the run was done. */
export async function mainThreadDuringRun(page: Page, from: number) {
  return page.evaluate((from) => {
    const { longTasks, doneAt, stalls } = (
      window as unknown as {
        __main: {
          longTasks: { start: number; duration: number }[];
          doneAt: number;
          stalls: { at: number; ms: number }[];
        };
      }
    ).__main;
    const during = (t: number) => t >= from && t <= doneAt;
    return {
      runMs: doneAt - from,
      longTasks: longTasks.filter((t) => during(t.start)).map((t) => ({ start: t.start, duration: Math.round(t.duration) })),
      longestStall: Math.round(Math.max(0, ...stalls.filter((s) => during(s.at)).map((s) => s.ms))),
    };
  }, from);
}

/** The vertices of an SVG path made of M and L commands (as vega draws lines), in the path's own coordinates. */
export async function lineVertices(path: Locator): Promise<[number, number][]> {
  const d = (await path.getAttribute('d')) ?? '';
  return [...d.matchAll(/[ML]\s*(-?[\d.e+-]+)[ ,](-?[\d.e+-]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

/** The least-squares line through (x, y) pairs and the largest distance of a pair from it. */
export function fit(pairs: [number, number][]): { slope: number; intercept: number; worst: number } {
  const n = pairs.length;
  const mx = pairs.reduce((s, [x]) => s + x, 0) / n;
  const my = pairs.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = pairs.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = pairs.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  return { slope, intercept, worst: Math.max(...pairs.map(([x, y]) => Math.abs(slope * x + intercept - y))) };
}

/** Exponential moving average with bias correction, weight 0.9: the smoothing the page's curves use. */
export function smoothed(values: number[]): number[] {
  let average = 0;
  return values.map((v, i) => {
    average = 0.9 * average + 0.1 * v;
    return average / (1 - 0.9 ** (i + 1));
  });
}

/** Every rendered element whose box reaches past the viewport's left or right edge, and the page's scroll width. */
export async function overflow(page: Page): Promise<{ scrollWidth: number; viewport: number; wide: string[] }> {
  return page.evaluate(() => {
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.checkVisibility())
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.left < -0.5 || r.right > innerWidth + 0.5);
      })
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}.${String(el.getAttribute('class') ?? '')}`,
      );
    return { scrollWidth: document.documentElement.scrollWidth, viewport: innerWidth, wide };
  });
}

/** Drops one picture on the page, as a drag from the desktop would. */
export async function dropPicture(page: Page, name = 'rings.png'): Promise<void> {
  const bytes = png(64, 64, (x, y) => (Math.hypot(x - 32, y - 32) % 12 < 6 ? [250, 240, 30, 255] : [20, 40, 160, 255]));
  await dropFiles(page, [{ name, type: 'image/png', bytes }]);
}

/** Waits for the data set, then for the page's estimate of each preset's cost: what a new user reads before pressing Train. */
export async function readyToTrain(page: Page): Promise<void> {
  await expect(page.getByTestId('data-status')).toContainText(SAMPLE_LOADED, { timeout: 120_000 });
  await expect(page.locator('[data-testid="preset-costs"] tbody tr[data-images-per-second]')).toHaveCount(4, { timeout: 120_000 });
  // The charts compiled in idle time before Train (src/ui/App.tsx, useChartWarmUp), as when a user reads the settings first.
  await expect(page.locator('main[data-charts-prepared="true"]')).toHaveCount(1, { timeout: 60_000 });
}
