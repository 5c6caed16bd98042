import type { ModelSummary } from '../model/summary';
import type { BackendInfo } from '../worker/protocol';

const BACKEND_NAMES = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly (WASM)', cpu: 'plain JavaScript (CPU)' } as const;

export function BackendPanel({ backend }: { backend: BackendInfo }) {
  return (
    <div className="backend" data-testid="backend-panel">
      Running on{' '}
      <strong data-testid="backend" data-backend={backend.name}>
        {BACKEND_NAMES[backend.name]}
      </strong>
      {backend.adapter ? <span> ({backend.adapter})</span> : null}
      {backend.forced ? <span>, as asked with ?backend=</span> : null}.{' '}
      {/* Its own page: the benchmark trains in workers of its own and must not share this page's GPU device. */}
      <a href="bench.html" target="_blank" rel="noopener">
        Benchmark this device
      </a>
      {backend.fallbackReasons.length > 0 && (
        <ul data-testid="fallback-reasons">
          {backend.fallbackReasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ModelSummaryTable({ summary }: { summary: ModelSummary }) {
  return (
    <details className="summary" data-testid="model-summary">
      <summary>
        Model: {summary.rows.length} layers, {summary.totalParams.toLocaleString('en-US')} parameters (
        {summary.trainableParams.toLocaleString('en-US')} trainable)
      </summary>
      <table>
        <thead>
          <tr>
            <th>layer</th>
            <th>type</th>
            <th>output shape</th>
            <th>parameters</th>
          </tr>
        </thead>
        <tbody>
          {summary.rows.map((row) => (
            <tr key={row.name}>
              <td>{row.name}</td>
              <td>{row.type}</td>
              <td>{row.outputShape}</td>
              <td>{row.params.toLocaleString('en-US')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
