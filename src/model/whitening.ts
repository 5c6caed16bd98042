/**
 * The `fast` preset's first layer: a k×k convolution whose filters whiten the
 * image patches (decorrelate them and give every direction unit variance), as
 * in tysam-code's hlb-cifar10 and Keller Jordan's airbench. Computed once from
 * training images, then frozen. Plain arithmetic on arrays, no TensorFlow.js:
 * a k·k·C × k·k·C covariance (12 × 12 for 2×2 RGB patches) is tiny.
 */

/** Running second moments of all k×k patches seen so far. */
export interface PatchMoments {
  /** Patch side, pixels. */
  k: number;
  /** Channels per pixel. */
  channels: number;
  /** Patches added. */
  count: number;
  /** Σ p pᵀ over patches p, row-major d × d with d = k·k·channels, patch index (i·k + j)·channels + c. */
  sums: Float64Array;
}

export function emptyPatchMoments(k: number, channels: number): PatchMoments {
  const d = k * k * channels;
  return { k, channels, count: 0, sums: new Float64Array(d * d) };
}

/**
 * Adds every k×k patch ('valid' positions, stride 1) of `count` images stored
 * as NHWC floats in `images` (height × width × channels each).
 */
export function addPatches(moments: PatchMoments, images: Float32Array, count: number, height: number, width: number): void {
  const { k, channels } = moments;
  const d = k * k * channels;
  if (images.length < count * height * width * channels) throw new RangeError(`${images.length} floats hold fewer than ${count} images`);
  const patch = new Float64Array(d);
  const { sums } = moments;
  for (let n = 0; n < count; n++) {
    const image = n * height * width * channels;
    for (let y = 0; y + k <= height; y++) {
      for (let x = 0; x + k <= width; x++) {
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) {
            const from = image + ((y + i) * width + (x + j)) * channels;
            for (let c = 0; c < channels; c++) patch[(i * k + j) * channels + c] = images[from + c] as number;
          }
        }
        // Upper triangle only; mirrored in whiteningFilters.
        for (let a = 0; a < d; a++) {
          const pa = patch[a] as number;
          const row = a * d;
          for (let b = a; b < d; b++) sums[row + b] = (sums[row + b] as number) + pa * (patch[b] as number);
        }
      }
    }
  }
  moments.count += count * (height - k + 1) * (width - k + 1);
}

/**
 * Filters [k, k, channels, 2·d] (tfjs conv2d layout) that whiten patches:
 * filter e is v_e / √(λ_e + ε) for the e-th eigenpair of the patch second-moment
 * matrix (largest first), and filter d + e its negative, so that a following
 * ReLU keeps both signs of every whitened direction.
 *
 * The second moment rather than the covariance, because the inputs are
 * already standardised per channel (mean ≈ 0) and the layer has no bias that
 * could subtract a mean.
 */
export function whiteningFilters(moments: PatchMoments, epsilon: number): Float32Array {
  const { k, channels, count, sums } = moments;
  if (count === 0) throw new RangeError('No patches to compute a whitening from');
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${epsilon}`);
  const d = k * k * channels;
  const matrix = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = (sums[a * d + b] as number) / count;
      matrix[a * d + b] = v;
      matrix[b * d + a] = v;
    }
  }
  const { values, vectors } = symmetricEigen(matrix, d);
  const out = new Float32Array(d * 2 * d);
  const outChannels = 2 * d;
  for (let e = 0; e < d; e++) {
    const scale = 1 / Math.sqrt(Math.max(values[e] as number, 0) + epsilon);
    for (let p = 0; p < d; p++) {
      // Patch index p = (i·k + j)·C + c is exactly the [i, j, c] prefix of the filter layout.
      const w = (vectors[p * d + e] as number) * scale;
      out[p * outChannels + e] = w;
      out[p * outChannels + d + e] = -w;
    }
  }
  return out;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix (row-major) by cyclic Jacobi
 * rotations: exact to rounding for the small matrices here, and simple.
 * Returns eigenvalues in descending order and eigenvectors as the columns of
 * `vectors` (row-major n × n), so that A = V diag(values) Vᵀ.
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) throw new RangeError(`Expected ${n}×${n} values, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const at = (i: number, j: number) => a[i * n + j] as number;
  // Converges quadratically; 50 sweeps is far more than a 12 × 12 matrix needs (≈ 6–8).
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      scale += at(i, i) * at(i, i);
      for (let j = i + 1; j < n; j++) off += at(i, j) * at(i, j);
    }
    if (off <= 1e-30 * Math.max(scale, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = at(p, q);
        if (apq === 0) continue;
        // Rotation angle that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.4.1).
        const theta = (at(q, q) - at(p, p)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = at(r, p);
          const arq = at(r, q);
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = at(p, r);
          const aqr = at(q, r);
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p] as number;
          const vrq = v[r * n + q] as number;
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => at(j, j) - at(i, i));
  const values = Float64Array.from(order, (i) => at(i, i));
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    for (let r = 0; r < n; r++) vectors[r * n + to] = v[r * n + from] as number;
  });
  return { values, vectors };
}
