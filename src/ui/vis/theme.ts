/**
 * Chart colours for the page's colour scheme (`prefers-color-scheme`), given
 * to every vega drawing — tfjs-vis's and ours — through the embed wrapper in
 * this folder. Backgrounds stay transparent so a chart sits on its panel.
 */
export type Scheme = 'light' | 'dark';

export interface ChartPalette {
  text: string;
  /** Axis labels, legend labels. */
  label: string;
  grid: string;
  /** Axis lines and ticks. */
  domain: string;
  training: string;
  validation: string;
  /** Runs side by side (compare), in order. */
  runs: readonly string[];
  /** The confusion matrix's colour scheme (a vega scheme name). */
  heat: string;
}

// Contrast on the panel's background (#fff / #1b2029): text and labels ≥ 4.5:1, lines ≥ 3:1.
export const PALETTES: Readonly<Record<Scheme, ChartPalette>> = Object.freeze({
  light: {
    text: '#1d2330',
    label: '#3d4554',
    grid: '#e3e6ea',
    domain: '#8a93a1',
    training: '#2f5fd0',
    validation: '#c2410c',
    runs: ['#2f5fd0', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#0e7490'],
    heat: 'blues',
  },
  dark: {
    text: '#e6e9ef',
    label: '#c3c9d3',
    grid: '#343b47',
    domain: '#7c8594',
    training: '#8fb0ff',
    validation: '#ffa366',
    runs: ['#8fb0ff', '#ffa366', '#6ee7a0', '#d8a6ff', '#f5d36b', '#67d8ef'],
    heat: 'darkblue',
  },
});

export function currentScheme(): Scheme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** A vega / vega-lite `config` in the scheme's colours. */
export function chartConfig(scheme: Scheme) {
  const p = PALETTES[scheme];
  return {
    background: 'transparent',
    font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    axis: {
      labelColor: p.label,
      titleColor: p.text,
      gridColor: p.grid,
      domainColor: p.domain,
      tickColor: p.domain,
      labelFontSize: 11,
      titleFontSize: 12,
      titleFontWeight: 500 as const,
    },
    legend: { labelColor: p.label, titleColor: p.text, labelFontSize: 11 },
    title: { color: p.text },
    view: { stroke: null },
  };
}
