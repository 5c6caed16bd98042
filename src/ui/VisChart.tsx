/**
 * A React wrapper for one tfjs-vis drawing. tfjs-vis is loaded lazily: it
 * brings vega and TensorFlow.js core, which the first screen does not need.
 */
import { useEffect, useRef } from 'react';

type Vis = typeof import('@tensorflow/tfjs-vis');

let visModule: Promise<Vis> | undefined;
const loadVis = () => (visModule ??= import('@tensorflow/tfjs-vis'));

/** Redraws whenever `data` changes (by identity); draw calls are serialised so a slow render never overlaps the next. */
export function VisChart<T>({
  data,
  draw,
  testId,
  label,
}: {
  data: T;
  draw: (vis: Vis, el: HTMLElement, data: T) => Promise<void>;
  testId: string;
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const queue = useRef<Promise<void>>(Promise.resolve());
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    queue.current = queue.current
      .then(async () => draw(await loadVis(), el, data))
      .then(() => el.setAttribute('data-drawn', 'true'))
      .catch((error: unknown) => console.error(`Drawing ${label} failed`, error));
  }, [data, draw, label]);
  return <div ref={ref} className="chart" data-testid={testId} aria-label={label} />;
}
