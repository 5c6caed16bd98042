/**
 * Lets tfjs-backend-wasm 4.22's threaded SIMD build run inside our bundled
 * trainer worker, with one thread per logical core.
 *
 * 1. Pthread workers from same-origin files, not blobs. tfjs starts each
 *    pthread worker from a blob of `wasmWorkerContents` that loads a blob of
 *    the Emscripten factory's `toString()`. Once minified, that source no
 *    longer stands on its own (its `_scriptDir` guard is renamed, so every
 *    pthread worker dies with "ReferenceError: e is not defined":
 *    tensorflow/tfjs#4253, #4539), and blob workers would need `blob:` in the
 *    CSP's script-src and worker-src (tensorflow/tfjs#5137). So the build
 *    emits the package's own unminified factory and the pthread worker script
 *    as assets and points tfjs at their URLs.
 * 2. One thread per logical core. tfjs's C++ caps its pool at
 *    `emscripten_num_logical_cores() / 2` (it assumes two hyper-threads per
 *    core), so a 2-core machine gets 1 thread whatever `setThreadsCount` asks.
 *    The factory's `_emscripten_num_logical_cores` is patched to report twice
 *    `navigator.hardwareConcurrency`, so that the cap becomes one thread per
 *    logical core and `setThreadsCount(n)` is obeyed up to there. That
 *    constant is read once, when the module starts, in the thread that calls
 *    `tf.setBackend('wasm')`.
 *
 * Each rewrite must match exactly once: a tfjs upgrade that changes the code
 * fails the build here rather than shipping a backend that quietly runs on
 * one thread.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

const PACKAGE = '@tensorflow/tfjs-backend-wasm';
const FACTORY = 'wasm-out/tfjs-backend-wasm-threaded-simd.js';
const PTHREAD_WORKER = 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
const BACKEND = 'dist/backend_wasm.js';

const packageDir = (() => {
  const require = createRequire(import.meta.url);
  return require.resolve(`${PACKAGE}/package.json`).replace(/package\.json$/, '');
})();

const isFile = (id: string, file: string) => id.split('?')[0]?.replace(/\\/g, '/').endsWith(`${PACKAGE}/${file}`) ?? false;

/** `code` with the single match of `pattern` replaced; throws when it matches zero or several times. */
function replaceOnce(code: string, pattern: RegExp, replacement: string, what: string): string {
  const count = [...code.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))].length;
  if (count !== 1) {
    throw new Error(
      `wasm-threads: expected exactly one ${what} in ${PACKAGE}, found ${count}. ` +
        'The package changed: update vite-plugin-wasm-threads.ts (or pin the version it was written for, 4.22.0).',
    );
  }
  return code.replace(pattern, replacement);
}

/** The Emscripten factory with the core count doubled (see 2. above). */
export function patchLogicalCores(factory: string): string {
  return replaceOnce(
    factory,
    /return navigator\["hardwareConcurrency"\]\}/,
    'return 2*navigator["hardwareConcurrency"]}',
    '`_emscripten_num_logical_cores` reading navigator.hardwareConcurrency',
  );
}

/** The pthread worker's source: the template literal that `wasmWorkerContents` is made of, as written. */
export function pthreadWorkerSource(module: string): string {
  const match = /^module\.exports\.wasmWorkerContents = `([^`]*)`;?\s*$/.exec(module);
  if (!match || match[1] === undefined || match[1].includes('${'))
    throw new Error(`wasm-threads: ${PACKAGE}/${PTHREAD_WORKER} is no longer one plain template literal`);
  // Raw text, escapes untouched: exactly the script tfjs means (it re-escapes the newlines the literal decoded).
  return match[1];
}

/** backend_wasm.js pointing the threaded build at two URL expressions instead of blobs. */
export function patchBackend(code: string, factoryUrl: string, workerUrl: string): string {
  let out = replaceOnce(
    code,
    /const response = wasmWorkerContents\.replace\([^;]*;\s*const blob = new Blob\(\[response\][^;]*;\s*return URL\.createObjectURL\(blob\);/,
    `return ${workerUrl};`,
    'pthread worker blob in locateFile',
  );
  out = replaceOnce(
    out,
    /factoryConfig\.mainScriptUrlOrBlob = new Blob\(\[`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)\], \{ type: 'text\/javascript' \}\);/,
    `factoryConfig.mainScriptUrlOrBlob = ${factoryUrl};`,
    'factory blob passed as mainScriptUrlOrBlob',
  );
  return out;
}

/** For the worker bundles of `vite build`: both rewrites, the two scripts emitted as assets. */
export function wasmThreadsBuild(): Plugin {
  return {
    name: 'wasm-threads-build',
    apply: 'build',
    transform(code, id) {
      if (isFile(id, FACTORY)) return { code: patchLogicalCores(code), map: null };
      if (!isFile(id, BACKEND)) return null;
      const factory = this.emitFile({
        type: 'asset',
        name: 'tfjs-backend-wasm-threaded-simd.js',
        source: patchLogicalCores(readFileSync(`${packageDir}${FACTORY}`, 'utf8')),
      });
      const worker = this.emitFile({
        type: 'asset',
        name: 'tfjs-backend-wasm-threaded-simd.worker.js',
        source: pthreadWorkerSource(readFileSync(`${packageDir}${PTHREAD_WORKER}`, 'utf8')),
      });
      return { code: patchBackend(code, `import.meta.ROLLUP_FILE_URL_${factory}`, `import.meta.ROLLUP_FILE_URL_${worker}`), map: null };
    },
  };
}

/**
 * For the dev server's pre-bundled dependencies (never minified, so tfjs's
 * blobs work there; the dev server sends no CSP): the core count only.
 */
export function wasmThreadsDevDeps(): { name: string; transform(code: string, id: string): { code: string } | null } {
  return {
    name: 'wasm-threads-dev-deps',
    transform: (code, id) => (isFile(id, FACTORY) ? { code: patchLogicalCores(code) } : null),
  };
}
