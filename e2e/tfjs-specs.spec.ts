/**
 * TensorFlow.js's own specs of the ops whose kernels we replace, in Chromium
 * on WebGPU and WebGL (tfjs-specs.html, src/tfjs-specs/), once with the stock
 * kernels and once with ours: no spec that passes with the stock kernels may
 * fail with ours. CPU and WASM run the same in Node (scripts/tfjs-specs.ts).
 */
import type { Page } from '@playwright/test';
import type { SpecFile } from '../src/tfjs-specs/coverage';
import type { KernelSet, SpecRun } from '../src/tfjs-specs/run';
import { compareRuns, describeRuns, describeVerdict } from '../src/tfjs-specs/verdict';
import { expect, test } from './fixtures';

/**
 * SwiftShader runs these on the CPU: every spec file of ours (src/tfjs-specs/coverage.ts) took 5.3 min for
 * both backends on 2 busy cores, so CI runs the files that reach most of our GPU code per second. On both:
 * conv2d's (two of its gradients run our Conv2DBackpropFilter) and the optimizers' (our fused updates).
 * On WebGPU also the fused conv's: its gradients run our Conv2DBackpropFilter, and its 16-channel 3×3 cases
 * are the only ones our forward Conv2D / FusedConv2D take (webgpuForwardConvRule); smaller ones go to the
 * stock kernel. On WebGL also conv2dTranspose's, five more gradients through our Conv2DBackpropFilter.
 * Left out: conv1d's and separableConv2d's, and conv2dTranspose's on WebGPU. TFJS_SPECS_ALL=1 runs them all.
 */
const GPU_FILES: Record<'webgpu' | 'webgl', SpecFile[] | undefined> = process.env.TFJS_SPECS_ALL
  ? { webgpu: undefined, webgl: undefined }
  : {
      webgpu: ['ops/conv2d_test', 'ops/fused/fused_conv2d_test', 'optimizers/adam_optimizer_test', 'optimizers/momentum_optimizer_test'],
      webgl: ['ops/conv2d_test', 'ops/conv2d_transpose_test', 'optimizers/adam_optimizer_test', 'optimizers/momentum_optimizer_test'],
    };

async function runInPage(page: Page, backend: string, kernels: KernelSet, files: SpecFile[] | undefined): Promise<SpecRun> {
  const query = new URLSearchParams({ backend, kernels, ...(files ? { files: files.join(',') } : {}) });
  // A new document per run: the spec files define their suites once, on import.
  await page.goto(`/tfjs-specs.html?${query.toString()}`);
  return page.evaluate(() => (window as unknown as { tfjsSpecs: Promise<SpecRun> }).tfjsSpecs);
}

for (const backend of ['webgpu', 'webgl'] as const) {
  test(`TensorFlow.js's own specs on ${backend} pass with our kernels wherever they pass with the stock ones`, async ({
    page,
    pageErrors,
  }) => {
    const stock = await runInPage(page, backend, 'stock', GPU_FILES[backend]);
    const ours = await runInPage(page, backend, 'ours', GPU_FILES[backend]);
    const verdict = compareRuns(stock, ours);
    console.log([...describeVerdict(verdict), ...describeRuns(stock, ours)].join('\n'));
    test.info().annotations.push({ type: 'tfjs-specs', description: verdict.summary });
    expect(ours.replaced).toEqual(ours.planned);
    // A backend that failed every spec would have nothing to regress: the subsets hold over 50 that the stock kernels pass.
    expect(verdict.stockPassed).toBeGreaterThan(50);
    expect(verdict.regressions).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
}
