// TensorFlow.js's own specs against our kernels on the Node backends (see tfjs-specs.ts): in `npm run test:unit`, so in CI.
import { describe, expect, it } from 'vitest';
import { describeRuns, describeVerdict } from '../src/tfjs-specs/verdict';
import { NODE_BACKENDS, nodeSpecs } from './tfjs-specs';

describe.each(NODE_BACKENDS)("TensorFlow.js's own specs on %s", (backend) => {
  it('pass with our kernels wherever they pass with the stock ones', async () => {
    const { verdict, stock, ours } = await nodeSpecs(backend);
    // The log lists the specs the stock kernels fail too: left out of the verdict, not out of sight.
    console.log([...describeVerdict(verdict), ...describeRuns(stock, ours)].join('\n'));
    // Every tfjs kernel the registry lists for this backend was ours in the run (relaxed SIMD missing would drop Conv2D)…
    expect(ours.replaced).toEqual(ours.planned);
    // …and the run checked something: these files hold well over a hundred specs that the stock kernels pass.
    expect(verdict.stockPassed).toBeGreaterThan(100);
    expect(verdict.regressions).toEqual([]);
  }, 240_000);
});
