import { describe, expect, it } from 'vitest';
import {
  COUNTER_NAMES,
  WEBGL_COUNTERS,
  WEBGPU_COUNTERS,
  addCounts,
  counterTable,
  countersFor,
  countsBetween,
  formatCount,
  summarizeCounts,
  installCounters,
  perStep,
  writtenBytes,
  zeroCounts,
  type Counts,
} from './counters';

/** Stand-ins with the same method names as the WebGPU and WebGL2 interfaces; each records that it ran. */
function fakeScope() {
  const calls: string[] = [];
  class GPUComputePassEncoder {
    dispatchWorkgroups() {
      calls.push('dispatchWorkgroups');
    }
  }
  class GPUDevice {
    createBindGroup() {
      calls.push('createBindGroup');
      return 'bind group';
    }
    createBuffer() {
      calls.push('createBuffer');
      return 'buffer';
    }
    createComputePipeline() {
      calls.push('createComputePipeline');
    }
    createComputePipelineAsync() {
      calls.push('createComputePipelineAsync');
    }
  }
  class GPUQueue {
    writeBuffer() {
      calls.push('writeBuffer');
    }
    submit() {
      calls.push('submit');
    }
  }
  class GPUCommandEncoder {
    beginComputePass() {
      calls.push('beginComputePass');
      return new GPUComputePassEncoder();
    }
  }
  class GPUBuffer {
    mapAsync() {
      calls.push('mapAsync');
    }
  }
  class WebGL2RenderingContext {
    drawArrays() {
      calls.push('drawArrays');
    }
    drawElements() {
      calls.push('drawElements');
    }
    useProgram() {
      calls.push('useProgram');
    }
    linkProgram() {
      calls.push('linkProgram');
    }
    readPixels() {
      calls.push('readPixels');
    }
  }
  const scope = { GPUComputePassEncoder, GPUDevice, GPUQueue, GPUCommandEncoder, GPUBuffer, WebGL2RenderingContext };
  return { scope, calls };
}

type Any = Record<string, (...args: unknown[]) => unknown>;

describe('installCounters', () => {
  it('counts each wrapped call, passes the call through with its result, and sizes writes and buffers', () => {
    const { scope, calls } = fakeScope();
    const counters = installCounters(scope);
    const device = new scope.GPUDevice() as unknown as Any;
    const queue = new scope.GPUQueue() as unknown as Any;
    const encoder = new scope.GPUCommandEncoder() as unknown as Any;
    const pass = encoder.beginComputePass?.() as unknown as Any;
    expect(pass).toBeInstanceOf(scope.GPUComputePassEncoder);
    for (let i = 0; i < 3; i++) {
      expect(device.createBindGroup?.({})).toBe('bind group');
      queue.writeBuffer?.({}, 0, new ArrayBuffer(64), 0, 48);
      pass.dispatchWorkgroups?.(1, 1, 1);
    }
    queue.writeBuffer?.({}, 0, new Float32Array(10));
    expect(device.createBuffer?.({ size: 256, usage: 0 })).toBe('buffer');
    device.createComputePipeline?.({});
    device.createComputePipelineAsync?.({});
    queue.submit?.([]);
    (new scope.GPUBuffer() as unknown as Any).mapAsync?.(1);
    const gl = new scope.WebGL2RenderingContext() as unknown as Any;
    gl.useProgram?.({});
    gl.drawArrays?.(4, 0, 3);
    gl.drawElements?.(4, 6, 0, 0);
    gl.linkProgram?.({});
    gl.readPixels?.(0, 0, 1, 1);

    expect(counters.snapshot()).toEqual({
      dispatches: 3,
      bindGroups: 3,
      bufferWrites: 4,
      bufferWriteBytes: 3 * 48 + 40,
      buffersCreated: 1,
      bufferBytesCreated: 256,
      pipelinesCreated: 2,
      computePasses: 1,
      submits: 1,
      readbacks: 1,
      drawCalls: 2,
      programSwitches: 1,
      programsLinked: 1,
      glReadbacks: 1,
    } satisfies Counts);
    expect(calls.filter((c) => c === 'dispatchWorkgroups')).toHaveLength(3);
    expect(calls).toHaveLength(21);
  });

  it('wraps a prototype once: a second installation counts alongside nothing, the first keeps counting once per call', () => {
    const { scope } = fakeScope();
    const first = installCounters(scope);
    const second = installCounters(scope);
    (new scope.GPUQueue() as unknown as Any).submit?.([]);
    expect(first.snapshot().submits).toBe(1);
    expect(second.snapshot().submits).toBe(0);
  });

  it('leaves out interfaces the scope lacks (a browser without WebGPU)', () => {
    const { scope } = fakeScope();
    const counters = installCounters({ WebGL2RenderingContext: scope.WebGL2RenderingContext });
    (new scope.WebGL2RenderingContext() as unknown as Any).drawArrays?.(4, 0, 3);
    (new scope.GPUQueue() as unknown as Any).submit?.([]);
    expect(counters.snapshot()).toEqual({ ...zeroCounts(), drawCalls: 1 });
  });

  it('returns snapshots that later calls do not change', () => {
    const { scope } = fakeScope();
    const counters = installCounters(scope);
    const before = counters.snapshot();
    (new scope.GPUQueue() as unknown as Any).submit?.([]);
    expect(before.submits).toBe(0);
    expect(counters.snapshot().submits).toBe(1);
  });
});

describe('writtenBytes', () => {
  it('counts typed-array offsets and sizes in elements, ArrayBuffer ones in bytes', () => {
    expect(writtenBytes(new Float32Array(8))).toBe(32);
    expect(writtenBytes(new Float32Array(8), 2)).toBe(24);
    expect(writtenBytes(new Float32Array(8), 2, 3)).toBe(12);
    expect(writtenBytes(new Uint8Array(8), 1)).toBe(7);
    expect(writtenBytes(new DataView(new ArrayBuffer(12)), 4)).toBe(8);
    expect(writtenBytes(new ArrayBuffer(64))).toBe(64);
    expect(writtenBytes(new ArrayBuffer(64), 16)).toBe(48);
    expect(writtenBytes(new ArrayBuffer(64), 0, 20)).toBe(20);
    expect(writtenBytes(undefined)).toBe(0);
  });
});

describe('per-step arithmetic', () => {
  const counts = (values: Partial<Counts>): Counts => ({ ...zeroCounts(), ...values });

  it('takes the difference of two snapshots, sums rounds and divides by the steps', () => {
    const round1 = countsBetween(counts({ dispatches: 100, submits: 3 }), counts({ dispatches: 1754, submits: 113 }));
    const round2 = countsBetween(counts({ dispatches: 1754, submits: 113 }), counts({ dispatches: 2581, submits: 168 }));
    expect(round1).toEqual(counts({ dispatches: 1654, submits: 110 }));
    const total = addCounts(round1, round2);
    expect(total).toEqual(counts({ dispatches: 2481, submits: 165 }));
    expect(perStep(total, 3)).toEqual(counts({ dispatches: 827, submits: 55 }));
  });

  it('refuses zero steps', () => {
    expect(() => perStep(zeroCounts(), 0)).toThrow(/at least one step/);
  });
});

describe('counterTable', () => {
  it('lists the backend’s counters by run, whole numbers grouped and means to one decimal, leaving out runs without counts', () => {
    const ours = { ...zeroCounts(), dispatches: 1234, bindGroups: 1234, bufferWriteBytes: 98_765, submits: 55.5 };
    const table = counterTable('webgpu', [
      { name: 'ours', countsPerStep: ours },
      { name: 'failed', countsPerStep: null },
      { name: 'tfjs-layers baseline', countsPerStep: { ...zeroCounts(), dispatches: 2000 } },
    ]);
    expect(table?.header).toEqual(['per step', 'ours', 'tfjs-layers baseline']);
    expect(table?.rows).toEqual([
      ['dispatches', '1,234', '2,000'],
      ['bind groups', '1,234', '0'],
      ['writeBuffer', '0', '0'],
      ['writeBuffer bytes', '98,765', '0'],
      ['buffers created', '0', '0'],
      ['bytes created', '0', '0'],
      ['pipelines created', '0', '0'],
      ['compute passes', '0', '0'],
      ['submits', '55.5', '0'],
      ['readbacks (mapAsync)', '0', '0'],
    ]);
  });

  it('shows WebGL’s counters on webgl, and nothing on wasm or without counts', () => {
    expect(counterTable('webgl', [{ name: 'ours', countsPerStep: zeroCounts() }])?.rows.map((r) => r[0])).toEqual([
      'draw calls',
      'useProgram',
      'programs linked',
      'readPixels',
    ]);
    expect(counterTable('wasm', [{ name: 'ours', countsPerStep: zeroCounts() }])).toBeNull();
    expect(counterTable('webgpu', [{ name: 'ours' }])).toBeNull();
  });

  it('splits the counters between the two APIs without overlap', () => {
    expect([...WEBGPU_COUNTERS, ...WEBGL_COUNTERS]).toEqual([...COUNTER_NAMES]);
    expect(countersFor('webgpu')).toBe(WEBGPU_COUNTERS);
    expect(countersFor('cpu')).toEqual([]);
  });

  it('formats counts', () => {
    expect(formatCount(827)).toBe('827');
    expect(formatCount(1_048_576)).toBe('1,048,576');
    expect(formatCount(27.25)).toBe('27.3');
  });
});

describe('summarizeCounts', () => {
  it('names the counts of the API that was used', () => {
    expect(summarizeCounts({ ...zeroCounts(), dispatches: 838, bindGroups: 838, buffersCreated: 215 })).toBe(
      '838 dispatches, 215 buffers created',
    );
    expect(summarizeCounts({ ...zeroCounts(), drawCalls: 1333, programSwitches: 1334, programsLinked: 1 })).toBe(
      '1,333 draws, 1 programs linked',
    );
    expect(summarizeCounts(zeroCounts())).toBe('');
  });
});
