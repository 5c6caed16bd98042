/**
 * Our own charts: vega-lite specs drawn with the vega stack tfjs-vis brings
 * (src/ui/vis/vega-stack.ts, CSP-safe), where tfjs-vis's chart types cannot
 * draw what is needed (see each spec). Not through vega-embed: it compiles,
 * parses and renders a chart in one go, 70–140 ms of main thread here. A chart
 * is made in steps instead, each its own task, and the charts a run needs are
 * made before it starts (`prepareChart`), so that during a run the page only
 * ever feeds them data.
 */
import type { VisualizationSpec } from 'vega-embed';
import type { Spec as VegaSpec, View } from 'vega';
import { chartConfig, currentScheme, type Scheme } from '../vis/theme';

type Stack = typeof import('../vis/vega-stack');
let stack: Promise<Stack> | undefined;

/** The width specs are compiled with; each view gets its container's width instead (`view.width`). Unit: px. */
export const CHART_WIDTH = 400;

/** Starts loading the charting code, e.g. while the user reads the settings, so a run's first chart does not wait for it. */
export const preloadCharts = () => (stack ??= import('../vis/vega-stack'));

/** Lets the browser run other tasks (input, rendering) before the next step. */
export const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Compiled specs by their text (and scheme): a chart made again (new run, new scheme) skips the compile. */
const compiled = new Map<string, VegaSpec>();

/** The vega-lite compile, the longest step (20–70 ms here); cached, and done at idle time for charts known ahead. */
export async function compileChart(spec: VisualizationSpec, scheme: Scheme = currentScheme()): Promise<VegaSpec> {
  const key = `${scheme} ${JSON.stringify(spec)}`;
  const known = compiled.get(key);
  if (known) return known;
  const { vegaLite } = await preloadCharts();
  // Our specs are vega-lite; vega-embed's VisualizationSpec type is the union of vega and vega-lite specs.
  const result = vegaLite.compile(spec as never, { config: chartConfig(scheme) as never }).spec;
  compiled.set(key, result);
  return result;
}

/**
 * Draws `spec` into `el`, `width` px wide (by default `el`'s width), and
 * returns its view, which the caller feeds with changesets and must
 * `finalize()` when done. SVG: crisp at any zoom, and each mark is an element
 * the browser (and a test) can inspect.
 */
export async function createChart(
  el: HTMLElement,
  spec: VisualizationSpec,
  scheme: Scheme = currentScheme(),
  width?: number,
): Promise<View> {
  const { vega, expressionInterpreter, Handler } = await preloadCharts();
  const vegaSpec = await compileChart(spec, scheme);
  await nextTask();
  const runtime = vega.parse(vegaSpec, undefined, { ast: true });
  await nextTask();
  const view = new vega.View(runtime, {
    renderer: 'svg',
    // An empty data set would warn of an infinite extent on every update: errors only.
    logLevel: vega.Error,
    expr: expressionInterpreter,
    tooltip: new Handler({ theme: scheme }).call,
  } as ConstructorParameters<Stack['vega']['View']>[1]);
  view.width(width ?? Math.max(1, Math.floor(el.clientWidth)));
  await nextTask();
  view.initialize(el);
  await nextTask();
  await view.runAsync();
  return view;
}

/** Keeps a view as wide as its container; returns the disconnect function. */
export function followWidth(el: HTMLElement, view: View): () => void {
  let timer = 0;
  const observer = new ResizeObserver(() => {
    clearTimeout(timer);
    // After the resize settles, in a task of its own.
    timer = window.setTimeout(() => {
      const width = Math.floor(el.clientWidth);
      if (width > 0 && width !== view.width())
        view
          .width(width)
          .runAsync()
          .catch((error: unknown) => console.error('Resizing a chart failed', error));
    }, 100);
  });
  observer.observe(el);
  return () => {
    clearTimeout(timer);
    observer.disconnect();
  };
}

interface Prepared {
  container: HTMLDivElement;
  view: Promise<View>;
}
const prepared = new Map<string, Prepared>();

/** Makes a chart ahead, off the page, `width` px wide; `adoptChart(key, …)` puts it in place. */
export function prepareChart(key: string, spec: VisualizationSpec, scheme: Scheme, width: number): Promise<View> {
  const known = prepared.get(key);
  if (known) return known.view;
  const container = document.createElement('div');
  const view = createChart(container, spec, scheme, width);
  prepared.set(key, { container, view });
  view.catch(() => prepared.delete(key));
  return view;
}

/** The chart made ahead under `key`, now inside `el` (once: a second caller gets null and makes its own). */
export async function adoptChart(key: string, el: HTMLElement): Promise<View | null> {
  const ready = prepared.get(key);
  if (!ready) return null;
  prepared.delete(key);
  const view = await ready.view;
  el.replaceChildren(ready.container);
  return view;
}

/**
 * The width a chart will have in a panel's two-column chart grid (`.charts`),
 * measured on a hidden copy of that layout before the panel exists.
 */
export function chartGridWidth(main: HTMLElement): number {
  const style = getComputedStyle(main);
  const probe = document.createElement('div');
  probe.className = 'panel';
  probe.setAttribute('aria-hidden', 'true');
  probe.style.cssText = `position:absolute;visibility:hidden;left:0;top:0;width:${main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)}px`;
  probe.innerHTML =
    '<div class="charts"><figure class="chart-figure"><div class="chart"></div></figure><figure class="chart-figure"></figure></div>';
  main.append(probe);
  const width = Math.floor((probe.querySelector('.chart') as HTMLElement).clientWidth);
  probe.remove();
  return width;
}

/**
 * Loads the stack and compiles `specs` one per idle period, then prepares
 * `ahead` (the charts a run opens with). Returns a cancel function.
 */
export function warmUpCharts(specs: readonly VisualizationSpec[], scheme: Scheme, ahead: () => void): () => void {
  let cancelled = false;
  let handle = 0;
  const step = (i: number) => {
    if (cancelled) return;
    if (i > specs.length) return ahead();
    handle = requestIdleCallback(() => {
      const work = i === 0 ? preloadCharts() : compileChart(specs[i - 1] as VisualizationSpec, scheme);
      work.then(() => step(i + 1)).catch((error: unknown) => console.error('Preparing the charts failed', error));
    });
  };
  step(0);
  return () => {
    cancelled = true;
    cancelIdleCallback(handle);
  };
}
