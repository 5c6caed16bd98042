/**
 * The backend line's words for `cores` logical cores, as src/worker/wasmThreads.ts plans them: two
 * workers training together where there are two cores or more, the cores shared among them as threads;
 * `after`: what the line adds (which way the page was isolated, where not by its server).
 */
export function wasmLine(cores: number, workers = Math.min(cores, 2), after = ''): string {
  const threads = Math.max(1, Math.min(Math.floor(cores / workers), 8));
  const t = `${threads} ${threads === 1 ? 'thread' : 'threads'}`;
  return workers > 1 ? `(SIMD, ${workers} workers × ${t}${after})` : `(SIMD, ${t}${after})`;
}
