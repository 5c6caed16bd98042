import type { ModelSummary } from '../model/summary';
import type { CaseChoice } from '../kernels/tuning/tune';
import type { BackendInfo, KernelPlanReport } from '../worker/protocol';

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

export function ModelSummaryTable({ summary, plan }: { summary: ModelSummary; plan: KernelPlanReport | undefined }) {
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
      {plan && <KernelPlanTable plan={plan} />}
      {plan && plan.ours.length > 0 && <OurKernels plan={plan} />}
    </details>
  );
}

const OP_NAMES = { forward: 'forward', filterGrad: 'weight gradient' } as const;
const SOURCE_NAMES = { tuned: 'timed now', cached: 'timed earlier on this device', static: 'static plan' } as const;

/** Which formulation each convolution of the step runs, and the timings behind the choice. */
function KernelPlanTable({ plan }: { plan: KernelPlanReport }) {
  return (
    <section className="kernel-plan" data-testid="kernel-plan" data-status={plan.status} aria-label="Convolution kernels on this device">
      <p>
        Convolution kernels on this device ({plan.status === 'tuned' ? 'tuned' : 'static plan'}): {plan.reason}.
      </p>
      {plan.choices.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>layers</th>
              <th>kernel</th>
              <th>formulation</th>
              <th>chosen by</th>
              <th>ms per call</th>
            </tr>
          </thead>
          <tbody>
            {plan.choices.map((c) => (
              <tr key={`${c.op} ${c.shapeKey}`} data-source={c.source} title={c.shapeKey}>
                <td>{c.layers.join(', ')}</td>
                <td>{OP_NAMES[c.op]}</td>
                <td>{c.method}</td>
                <td>
                  {SOURCE_NAMES[c.source]}
                  {c.note ? ` (${c.note})` : ''}
                </td>
                <td>{timings(c)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The registry's rows that run on this backend: which kernel is ours, and why. */
function OurKernels({ plan }: { plan: KernelPlanReport }) {
  return (
    <section className="our-kernels" data-testid="our-kernels" aria-label={`Kernels of ours on ${plan.backend}`}>
      <p>Kernels of ours on {plan.backend}, each in place of TensorFlow.js's own or alongside it:</p>
      <ul>
        {plan.ours.map((k) => (
          <li key={`${k.op}/${k.kernel}`}>
            <code>{k.kernel}</code> ({k.op}): {k.why}
          </li>
        ))}
      </ul>
    </section>
  );
}

function timings(c: CaseChoice): string {
  const timed = Object.entries(c.timings)
    .sort((a, b) => a[1] - b[1])
    .map(([method, ms]) => `${method} ${ms.toPrecision(3)}`);
  const failed = c.dropped.map((d) => `${d.method} failed: ${d.reason}`);
  return [...timed, ...failed].join(' · ') || '—';
}
