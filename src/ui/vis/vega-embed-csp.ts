/**
 * `vega-embed` as tfjs-vis sees it (through a Vite alias), and as our own
 * vega-lite charts use it (src/ui/charts/): every chart is parsed to an AST
 * (`ast: true`) and evaluated by vega-interpreter instead of compiled with
 * `Function`, so charts draw under a CSP without 'unsafe-eval'. Every chart
 * also gets the colours of the page's scheme (light or dark).
 */
// By path, not by package name: the alias that sends tfjs-vis here would otherwise send this import back to this file.
import embed from '../../../node_modules/vega-embed/build/embed.js';
import { chartConfig, currentScheme } from './theme';

type Embed = typeof embed;

export default function embedWithoutEval(...[el, spec, opts]: Parameters<Embed>): ReturnType<Embed> {
  const scheme = currentScheme();
  // A chart's own config (tfjs-vis sets font sizes in its spec) still wins over these defaults.
  const own = typeof opts?.config === 'object' ? opts.config : {};
  return embed(el, spec, { tooltip: { theme: scheme }, ...opts, config: { ...chartConfig(scheme), ...own }, ast: true });
}
