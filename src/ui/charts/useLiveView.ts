/**
 * A vega view that lives as long as its component (or until the colour scheme
 * changes): adopted from the charts made ahead (embed.ts) or made now, kept
 * as wide as its container, finalized on unmount.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import type { View } from 'vega';
import type { VisualizationSpec } from 'vega-embed';
import type { Scheme } from '../vis/theme';
import { adoptChart, createChart, followWidth } from './embed';

/** The key a chart is prepared under, e.g. the loss curves in the dark scheme. */
export const preparedKey = (name: string, scheme: Scheme) => `${name}:${scheme}`;

export function useLiveView(ref: RefObject<HTMLElement | null>, name: string, spec: () => VisualizationSpec, scheme: Scheme): View | null {
  const [view, setView] = useState<View | null>(null);
  const makeSpec = useRef(spec);
  useEffect(() => {
    makeSpec.current = spec;
  });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let cancelled = false;
    let made: View | null = null;
    let stopFollowing = () => {};
    const make = async () => (await adoptChart(preparedKey(name, scheme), el)) ?? createChart(el, makeSpec.current(), scheme);
    make()
      .then((created) => {
        made = created;
        if (cancelled) return created.finalize();
        stopFollowing = followWidth(el, created);
        el.setAttribute('data-drawn', 'true');
        setView(created);
      })
      .catch((error: unknown) => console.error(`Drawing the ${name} chart failed`, error));
    return () => {
      cancelled = true;
      stopFollowing();
      made?.finalize();
      setView(null);
    };
  }, [ref, name, scheme]);
  return view;
}
