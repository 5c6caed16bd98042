import { describe, expect, it } from 'vitest';
import type { ErrorData } from '../errors';
import type { ClassifierInfo } from '../classify/classifier';
import { initialModelsState, reduceModels, topClasses, type Card, type ModelsState } from './modelsState';

const file = new File([], 'x.png');
const card = (id: number): Card => ({ id, name: `${id}.png`, file, thumbUrl: null, status: 'waiting' });
const info: ClassifierInfo = { source: 'trained', name: 'tiny', color: 'rgb', classes: [], libraryId: null };
const pixels = new Uint8Array(3072);
const probs = Array.from({ length: 10 }, (_, i) => (i === 3 ? 0.91 : 0.01));
const undecodable: ErrorData = { name: 'ImageError', code: 'image-undecodable', message: 'no' };
const noModel: ErrorData = { name: 'AppError', code: 'no-model', message: 'none' };

function withCards(...ids: number[]): ModelsState {
  return reduceModels({ ...initialModelsState, classifier: info }, { type: 'cards-added', cards: ids.map(card) });
}

const MEMORY = { numTensors: 7, numBytes: 1024 };

describe('reduceModels: cards', () => {
  it('matches results to cards by request id, and ignores answers to older requests', () => {
    let s = withCards(1, 2);
    s = reduceModels(s, {
      type: 'cards-queued',
      requests: [
        { id: 1, request: 10 },
        { id: 2, request: 11 },
      ],
    });
    s = reduceModels(s, { type: 'cards-queued', requests: [{ id: 1, request: 12 }] }); // sent again
    s = reduceModels(s, {
      type: 'classified',
      results: [
        { id: 10, ok: false, error: undecodable }, // the old request for card 1
        { id: 11, ok: true, pixels, probs, saliency: null },
      ],
      memory: MEMORY,
    });
    expect(s.cards.map((c) => c.status)).toEqual(['queued', 'done']);
    expect(s.cards[1]).toMatchObject({ probs, model: 'tiny' });
    s = reduceModels(s, { type: 'classified', results: [{ id: 12, ok: false, error: undecodable }], memory: MEMORY });
    expect(s.cards[0]).toMatchObject({ status: 'error', error: undecodable });
  });

  it('puts cards back to waiting when the worker had no model, or the model went away', () => {
    let s = withCards(1, 2);
    s = reduceModels(s, {
      type: 'cards-queued',
      requests: [
        { id: 1, request: 1 },
        { id: 2, request: 2 },
      ],
    });
    s = reduceModels(s, { type: 'classified', results: [{ id: 1, ok: false, error: noModel }], memory: MEMORY });
    expect(s.cards.map((c) => c.status)).toEqual(['waiting', 'queued']);
    s = reduceModels(s, { type: 'classifier', info: null });
    expect(s.cards.map((c) => c.status)).toEqual(['waiting', 'waiting']);
  });

  it('drops results for removed cards', () => {
    let s = withCards(1);
    s = reduceModels(s, { type: 'cards-queued', requests: [{ id: 1, request: 5 }] });
    s = reduceModels(s, { type: 'card-removed', id: 1 });
    s = reduceModels(s, { type: 'classified', results: [{ id: 5, ok: true, pixels, probs, saliency: null }], memory: MEMORY });
    expect(s.cards).toEqual([]);
  });
});

describe('topClasses', () => {
  it('gives the k most probable classes, most probable first', () => {
    const classes = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const p = [0.05, 0.3, 0.05, 0.4, 0.05, 0.05, 0.02, 0.03, 0.03, 0.02];
    expect(topClasses(p, classes)).toEqual([
      { name: 'd', probability: 0.4 },
      { name: 'b', probability: 0.3 },
      { name: 'a', probability: 0.05 },
    ]);
  });
});
