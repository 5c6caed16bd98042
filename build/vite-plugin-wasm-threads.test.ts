import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { patchBackend, patchLogicalCores, pthreadWorkerSource } from './vite-plugin-wasm-threads';

// The installed package's own files: the rewrites must fit the version we ship.
const file = (path: string) => readFileSync(`node_modules/@tensorflow/tfjs-backend-wasm/${path}`, 'utf8');

describe('the wasm-threads build rewrites, on the installed tfjs-backend-wasm', () => {
  it('points both blobs of the threaded build at URLs', () => {
    const out = patchBackend(file('dist/backend_wasm.js'), 'FACTORY_URL', 'WORKER_URL');
    expect(out).toContain('factoryConfig.mainScriptUrlOrBlob = FACTORY_URL;');
    expect(out).toContain('return WORKER_URL;');
    expect(out).not.toContain('createObjectURL');
    expect(out).not.toContain('toString()]');
  });

  it('doubles the logical core count that the C++ halves, in the factory only', () => {
    const out = patchLogicalCores(file('wasm-out/tfjs-backend-wasm-threaded-simd.js'));
    expect(out).toContain('return 2*navigator["hardwareConcurrency"]}');
    expect(out.length).toBe(file('wasm-out/tfjs-backend-wasm-threaded-simd.js').length + 2);
  });

  it('takes the pthread worker script as written, escapes and all', () => {
    const source = pthreadWorkerSource(file('wasm-out/tfjs-backend-wasm-threaded-simd.worker.js'));
    expect(source.startsWith('"use strict";var Module={};')).toBe(true);
    expect(source).toContain('fs.writeSync(2,text+"\\n")');
    expect(source).toContain('WasmBackendModuleThreadedSimd(Module)');
    expect(source).not.toContain('\n');
  });

  it('fails loudly when a pattern is gone, rather than shipping a single-threaded backend', () => {
    expect(() => patchBackend('const x = 1;', 'A', 'B')).toThrow(/expected exactly one pthread worker blob/);
    expect(() => patchLogicalCores('function f(){return 1}')).toThrow(/_emscripten_num_logical_cores/);
    expect(() => pthreadWorkerSource('module.exports = {}')).toThrow(/no longer one plain template literal/);
  });
});
