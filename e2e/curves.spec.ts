import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import {
  RECORD_WORKER_MESSAGES,
  SHORT_RUN,
  fit,
  lineVertices,
  mainThreadDuringRun,
  markRunStart,
  readyToTrain,
  sentByWorker,
  smoothed,
  startTrace,
  watchMainThread,
  type SentMetrics,
} from './dashboard';

/**
 * The run as a new user sees it at 1366×768: a dashboard whose live curves
 * follow the metrics the worker sent, drawn without ever blocking the page.
 */

// A trace snapshots the whole page at every step of a test, in the page's own main thread: not the app's work, which is measured here.
test.use({ trace: 'off' });

/** Epochs since the start for a metric report, as the curves place it. */
const stepX = (m: SentMetrics['metrics'][number]) => m.epoch - 1 + m.batchInEpoch / m.batchesPerEpoch;

/** Checks that the loss chart's lines are the sent metrics, mapped by one affine scale per axis. */
async function expectLinesFollow(page: Page, sent: SentMetrics) {
  const chart = page.getByTestId('loss-chart');
  const raw = await lineVertices(chart.locator('g.mark-line path[aria-label*="kind: raw"]'));
  const smooth = await lineVertices(chart.locator('g.mark-line path[aria-label*="kind: smoothed"]'));
  const validation = await lineVertices(chart.locator('g.mark-line path[aria-label*="series: validation"]'));
  expect(raw).toHaveLength(sent.metrics.length);
  expect(smooth).toHaveLength(sent.metrics.length);
  expect(validation).toHaveLength(sent.epochs.length);

  // One scale per axis, found from the raw line: every vertex within half a pixel of it.
  const xs = fit(sent.metrics.map((m, i) => [stepX(m), (raw[i] as [number, number])[0]]));
  const ys = fit(sent.metrics.map((m, i) => [m.loss, (raw[i] as [number, number])[1]]));
  expect(xs.worst).toBeLessThan(0.5);
  expect(ys.worst).toBeLessThan(0.5);
  expect(xs.slope).toBeGreaterThan(0);
  expect(ys.slope).toBeLessThan(0); // higher loss, higher on the screen
  const at = (x: number, y: number) => [xs.slope * x + xs.intercept, ys.slope * y + ys.intercept];
  const expectOn = (vertices: [number, number][], points: [number, number][]) =>
    points.forEach(([x, y], i) => {
      const [px, py] = at(x, y) as [number, number];
      expect(Math.abs(px - (vertices[i] as [number, number])[0])).toBeLessThan(0.5);
      expect(Math.abs(py - (vertices[i] as [number, number])[1])).toBeLessThan(0.5);
    });
  // The smoothed line and the validation points on the same scales.
  const ema = smoothed(sent.metrics.map((m) => m.loss));
  expectOn(
    smooth,
    sent.metrics.map((m, i) => [stepX(m), ema[i] as number]),
  );
  expectOn(
    validation,
    sent.epochs.map((e) => [e.epoch, e.valLoss as number]),
  );
  return { last: raw.at(-1) as [number, number], lastSmoothed: ema.at(-1) as number };
}

/**
 * No task of the page's main thread ran 50 ms or more during the run. The
 * Long Tasks API reports wall time, which on a busy machine includes waiting
 * for a core; each long task it reports is shown with the CPU time the
 * browser's trace gives the same task, and the test fails on CPU time.
 */
async function expectNeverBlocked(page: Page, from: number, tasks: { wall: number; cpu: number; at: number }[]) {
  const main = await mainThreadDuringRun(page, from);
  const cpuAt = (at: number) => Math.max(0, ...tasks.filter((t) => Math.abs(t.at - at) < 5).map((t) => t.cpu));
  const longest = tasks.reduce((a, b) => (b.cpu > a.cpu ? b : a), { wall: 0, cpu: 0, at: 0 });
  const report = [
    `run ${Math.round(main.runMs)} ms, ${tasks.length} main-thread tasks`,
    `longest by CPU time: ${longest.cpu.toFixed(1)} ms CPU (${longest.wall.toFixed(1)} ms wall)`,
    `Long Tasks API (wall ms / CPU ms): [${main.longTasks.map((t) => `${t.duration} / ${cpuAt(t.start - from).toFixed(1)}`).join(', ')}]`,
    `longest 10 ms-timer stall ${main.longestStall} ms`,
  ].join('; ');
  test.info().annotations.push({ type: 'main thread', description: report });
  console.log(`main thread during the run: ${report}`);
  expect(tasks.length).toBeGreaterThan(100);
  expect(tasks.filter((t) => t.cpu >= 50)).toEqual([]);
}

test('the curves follow the metrics the worker sent, on a dashboard that fits the screen, and never block the page', async ({
  page,
  pageErrors,
  patchWorker,
}) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  await patchWorker(RECORD_WORKER_MESSAGES);
  await watchMainThread(page);
  await page.goto(`/?${SHORT_RUN}`);
  await readyToTrain(page);
  const stopTrace = await startTrace(page);
  const from = await markRunStart(page);
  await page.getByRole('button', { name: 'Train', exact: true }).click();

  // During the run: status, progress, both curves and the throughput in view without scrolling; the settings one line.
  await expect.poll(async () => Number(await page.getByTestId('step').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
  for (const id of ['status', 'epoch-progress', 'run-progress', 'loss-chart', 'accuracy-chart', 'images-per-sec', 'eta']) {
    await expect(page.getByTestId(id), id).toBeInViewport({ ratio: 1 });
  }
  await expect(page.getByTestId('settings-summary')).toHaveText(/tiny · RGB · 2 epochs · batch 32/);
  await expect(page.getByRole('button', { name: 'Edit settings' })).toBeVisible();
  await expect(page.getByLabel('Epochs', { exact: true })).toBeHidden();

  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 180_000 });
  await expectNeverBlocked(page, from, await stopTrace());
  const sent = await sentByWorker(page);
  expect(sent.metrics.length).toBeGreaterThanOrEqual(8);
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-drawn', 'true');
  // The last update is drawn within a quarter of a second.
  await expect
    .poll(async () => (await lineVertices(page.getByTestId('loss-chart').locator('g.mark-line path[aria-label*="kind: raw"]'))).length)
    .toBe(sent.metrics.length);
  const { last, lastSmoothed } = await expectLinesFollow(page, sent);

  // Accuracy on a 0–100 % axis.
  const ticks = await page.getByTestId('accuracy-chart').locator('.role-axis-label text').allTextContents();
  expect(ticks).toEqual(expect.arrayContaining(['0%', '100%']));

  // Hovering the last report reads out its epoch and smoothed loss.
  const point = await page
    .getByTestId('loss-chart')
    .locator('path[aria-label*="kind: raw"]')
    .evaluate((path: SVGPathElement, [x, y]) => {
      const p = new DOMPoint(x, y).matrixTransform(path.getScreenCTM() as DOMMatrix);
      return { x: p.x, y: p.y };
    }, last);
  await page.mouse.move(point.x - 1, point.y);
  const readout = page.getByTestId('loss-readout');
  await expect(readout).toContainText('epoch 2.00');
  await expect(readout).toContainText(`training ${lastSmoothed.toFixed(4)}`);
  expect(pageErrors).toEqual([]);
});
