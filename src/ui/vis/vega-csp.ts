/**
 * `vega` as tfjs-vis sees it (through a Vite alias), plus the CSP-safe
 * expression interpreter. vega 5.20 compiles chart expressions with the
 * `Function` constructor, which our Content-Security-Policy (no
 * 'unsafe-eval') forbids; vega-embed switches to the interpreter when it finds
 * `vega.expressionInterpreter`, which vega 5.20 itself does not export.
 */
// @ts-expect-error -- the ES build has no types of its own; its API is vega's (index.d.ts).
export * from 'vega/build/vega.module.js';
export { expressionInterpreter } from 'vega-interpreter';
