/**
 * A React wrapper for one tfjs-vis drawing. tfjs-vis is loaded lazily: it
 * brings vega and TensorFlow.js core, which the first screen does not need.
 */
import { useEffect, useRef } from 'react';

type Vis = typeof import('@tensorflow/tfjs-vis');

let visModule: Promise<Vis> | undefined;
const loadVis = () => (visModule ??= import('@tensorflow/tfjs-vis'));

/**
 * Redraws whenever `data` changes (by identity); draw calls are serialised so a slow render never overlaps the next.
 * A chart is an image to assistive technology, `label` its text alternative.
 */
export function VisChart<T>({
  data,
  draw,
  testId,
  label,
  ready = true,
}: {
  /** False: not drawn yet (the page is busy); drawn as soon as it turns true. */
  ready?: boolean;
  data: T;
  draw: (vis: Vis, el: HTMLElement, data: T) => Promise<void>;
  testId: string;
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const queue = useRef<Promise<void>>(Promise.resolve());
  useEffect(() => {
    const el = ref.current;
    if (!el || !ready) return;
    queue.current = queue.current
      .then(async () => draw(await loadVis(), el, data))
      .then(() => el.setAttribute('data-drawn', 'true'))
      .catch((error: unknown) => console.error(`Drawing ${testId} failed`, error));
  }, [data, draw, testId, ready]);
  return <div ref={ref} className="chart" data-testid={testId} role="img" aria-label={label} />;
}
