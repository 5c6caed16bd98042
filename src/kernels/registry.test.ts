// The registry is the one place that decides where a kernel of ours runs:
// what registering installs must be exactly its rows, every kernel of our own
// name must have a row, and every row must point at figures that exist.
import { readFileSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerTrainingKernels, unregisterTrainingKernels, fusedUpdateFor, plannedKernels } from './register';
import { KERNELS, KERNEL_BACKENDS, kernelsOn, registryInWords } from './registry';

const ROOT = new URL('../../', import.meta.url);

/** Each kernel name of the backend mapped to its kernelFunc, as tfjs's registry holds them now. */
function snapshot(backend: string): Map<string, unknown> {
  return new Map(tf.getKernelsForBackend(backend).map((k) => [k.kernelName, k.kernelFunc]));
}

describe('the kernel registry', () => {
  it.each(['cpu', 'wasm'])('is exactly what registering on %s changes in tfjs, no more, no less', async (backend) => {
    await tf.setBackend(backend);
    unregisterTrainingKernels(backend);
    const before = snapshot(backend);
    const { registered } = registerTrainingKernels(backend);
    const after = snapshot(backend);
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k));
    expect(new Set(changed)).toEqual(new Set(registered));
    expect(new Set(registered)).toEqual(new Set(plannedKernels(backend)));
    unregisterTrainingKernels(backend);
    expect(snapshot(backend)).toEqual(before);
  });

  it('has a row the step trains with for every kernel of our own name (files under src/kernels/)', () => {
    const dir = new URL('./', import.meta.url);
    const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => readFileSync(new URL(f, dir), 'utf8'));
    const ownNames = sources.flatMap((s) => [...s.matchAll(/export const \w+ = '(Cifar\w+)'/g)].map((m) => m[1] as string));
    expect(ownNames.length).toBeGreaterThanOrEqual(9);
    for (const name of ownNames) {
      const rows = KERNELS.filter((e) => e.kernel === name);
      expect(
        rows.some((e) => e.mode === 'own-name' && e.use === 'training'),
        name,
      ).toBe(true);
    }
  });

  it('has one fused optimizer update per backend, and the optimizer finds it there', () => {
    for (const backend of KERNEL_BACKENDS) {
      const rows = kernelsOn(backend).filter((e) => e.mode === 'optimizer-update');
      expect(rows).toHaveLength(1);
      expect(fusedUpdateFor(backend)).toBe(rows[0]?.mode === 'optimizer-update' ? rows[0].update : undefined);
    }
    expect(fusedUpdateFor('tensorflow')).toBeNull();
  });

  it('is the only way in: no source but backend/installed.ts registers a kernel with tfjs', () => {
    const src = new URL('src/', ROOT);
    const callers = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.test.ts'))
      .filter((f) => /\bregisterKernel\(/.test(readFileSync(new URL(f, src), 'utf8')));
    expect(callers).toEqual(['kernels/backend/installed.ts']);
  });

  it('lists each kernel once per backend', () => {
    const keys = KERNELS.map((e) => `${e.backend}/${e.kernel}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('points every row at a heading that exists in the document it names', () => {
    const headings = new Map<string, string[]>();
    for (const e of KERNELS) {
      const doc = e.evidence.doc;
      if (!headings.has(doc)) {
        const text = readFileSync(new URL(doc, ROOT), 'utf8');
        headings.set(
          doc,
          text.split('\n').filter((l) => l.startsWith('#')),
        );
      }
      const found = (headings.get(doc) ?? []).some((h) => h.includes(e.evidence.heading));
      expect(found, `${e.backend}/${e.kernel}: "${e.evidence.heading}" in ${doc}`).toBe(true);
      expect(e.why.length).toBeGreaterThan(10);
    }
  });

  it('reads as one line per row', () => {
    const lines = registryInWords('webgl');
    expect(lines).toHaveLength(kernelsOn('webgl').length);
    expect(lines[0]).toMatch(
      /^webgl conv\/Conv2DBackpropFilter \[replaces-stock\] when .+: .+ \(docs\/benchmarks\.md, "WebGPU and WebGL, weight gradient"\)$/,
    );
  });
});
