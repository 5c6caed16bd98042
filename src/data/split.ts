import { STREAMS, mixSeed, mulberry32, shuffleInPlace } from './random';

/**
 * Stratified hold-out split: each class is shuffled on its own (by seed and
 * class, so one class's split does not depend on the others) and
 * round(count × valShare) of its images go to validation. Both parts come out
 * in ascending index order, which keeps reads sequential; training shuffles
 * per epoch anyway.
 */
export function stratifiedSplit(labels: Uint8Array, valShare: number, seed: number): { train: Uint32Array; val: Uint32Array } {
  if (!(valShare >= 0 && valShare <= 1)) throw new RangeError(`valShare must be in [0, 1], got ${valShare}`);
  const train: number[] = [];
  const val: number[] = [];
  groupByClass(labels, allIndices(labels.length)).forEach((members, label) => {
    shuffleInPlace(members, mulberry32(mixSeed(seed, STREAMS.split, label)));
    const nVal = Math.round(members.length * valShare);
    for (let i = 0; i < members.length; i++) (i < nVal ? val : train).push(members[i] as number);
  });
  return { train: sortedArray(train), val: sortedArray(val) };
}

/**
 * Picks `limit` of `indices` so that each class keeps its share. Quotas use the
 * largest-remainder method so they add up to exactly `limit`. Each class's
 * members are shuffled by (seed, class) and the first `quota` taken, so a larger
 * limit with the same seed mostly extends a smaller one's sample.
 * A limit at or above `indices.length` returns every index.
 */
export function stratifiedSample(labels: Uint8Array, indices: Uint32Array, limit: number, seed: number): Uint32Array {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number ≥ 0, got ${limit}`);
  if (limit >= indices.length) return sortedArray(Array.from(indices));

  const groups = groupByClass(labels, indices);
  const quotas = new Map<number, number>();
  const remainders: { label: number; fraction: number }[] = [];
  let given = 0;
  groups.forEach((members, label) => {
    const exact = (members.length * limit) / indices.length;
    quotas.set(label, Math.floor(exact));
    given += Math.floor(exact);
    remainders.push({ label, fraction: exact - Math.floor(exact) });
  });
  // Ties go to the lower label, so the result does not depend on Map order.
  remainders.sort((a, b) => b.fraction - a.fraction || a.label - b.label);
  for (let i = 0; i < limit - given; i++) {
    const label = (remainders[i] as { label: number }).label;
    quotas.set(label, (quotas.get(label) ?? 0) + 1);
  }

  const picked: number[] = [];
  groups.forEach((members, label) => {
    shuffleInPlace(members, mulberry32(mixSeed(seed, STREAMS.sample, label)));
    const quota = quotas.get(label) ?? 0;
    for (let i = 0; i < quota; i++) picked.push(members[i] as number);
  });
  return sortedArray(picked);
}

/**
 * The training and validation indices of the training split, as the settings
 * ask. Validation is held out first from all training images. `trainLimit`
 * (0 = no limit) is for quick runs, so it thins both parts: exactly
 * `trainLimit` training images, and validation kept at the same share of the
 * total (512 training images at a 0.1 share keep 57 for validation, not 5,000,
 * which would take longer to evaluate than the training itself). Both are
 * stratified samples of the full parts, so a limited run validates on a
 * subset of the full run's validation images.
 */
export function splitTrainingSet(
  labels: Uint8Array,
  settings: { validationShare: number; trainLimit: number; seed: number },
): { train: Uint32Array; val: Uint32Array } {
  const { train, val } = stratifiedSplit(labels, settings.validationShare, settings.seed);
  if (settings.trainLimit === 0) return { train, val };
  const share = settings.validationShare;
  const valLimit = share < 1 ? Math.round((settings.trainLimit * share) / (1 - share)) : val.length;
  return {
    train: stratifiedSample(labels, train, settings.trainLimit, settings.seed),
    val: stratifiedSample(labels, val, valLimit, settings.seed),
  };
}

function allIndices(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** Class label → its members (a fresh array each), classes in ascending label order. */
function groupByClass(labels: Uint8Array, indices: Uint32Array): Map<number, Uint32Array> {
  const lists = new Map<number, number[]>();
  for (const index of indices) {
    const label = labels[index];
    if (label === undefined) throw new RangeError(`index ${index} is outside the ${labels.length} labels`);
    const list = lists.get(label);
    if (list) list.push(index);
    else lists.set(label, [index]);
  }
  const ascending = [...lists.keys()].sort((a, b) => a - b);
  return new Map(ascending.map((label) => [label, Uint32Array.from(lists.get(label) ?? [])]));
}

function sortedArray(values: number[]): Uint32Array {
  return Uint32Array.from(values).sort();
}
