/**
 * The vega stack tfjs-vis brings (vega, vega-lite; vega-interpreter and
 * vega-tooltip through vega-embed), for our own charts (src/ui/charts/). The
 * same CSP-safe way as vega-embed-csp.ts: specs are parsed to an AST and
 * evaluated by vega-interpreter, never compiled with `Function`.
 */
// By path, not by package name: the Vite alias sends the package name to vega-embed-csp.ts, which has no named exports.
import { vega, vegaLite } from '../../../node_modules/vega-embed/build/embed.js';
import { expressionInterpreter } from 'vega-interpreter';
import { Handler } from 'vega-tooltip';

export { vega, vegaLite, expressionInterpreter, Handler };
