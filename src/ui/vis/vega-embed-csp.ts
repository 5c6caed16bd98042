/**
 * `vega-embed` as tfjs-vis sees it (through a Vite alias): every chart is
 * parsed to an AST (`ast: true`) and evaluated by vega-interpreter instead of
 * compiled with `Function`, so charts draw under a CSP without 'unsafe-eval'.
 */
import embed from 'vega-embed/build/vega-embed.module.js';

type Embed = typeof embed;

export default function embedWithoutEval(...[el, spec, opts]: Parameters<Embed>): ReturnType<Embed> {
  return embed(el, spec, { ...opts, ast: true });
}
