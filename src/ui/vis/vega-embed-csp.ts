/**
 * `vega-embed` as tfjs-vis sees it (through a Vite alias): every chart is
 * parsed to an AST (`ast: true`) and evaluated by vega-interpreter instead of
 * compiled with `Function`, so charts draw under a CSP without 'unsafe-eval'.
 */
// By path, not by package name: the alias that sends tfjs-vis here would otherwise send this import back to this file.
import embed from '../../../node_modules/vega-embed/build/embed.js';

type Embed = typeof embed;

export default function embedWithoutEval(...[el, spec, opts]: Parameters<Embed>): ReturnType<Embed> {
  return embed(el, spec, { ...opts, ast: true });
}
