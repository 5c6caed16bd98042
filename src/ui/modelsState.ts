/**
 * The page's state for checkpoints, the classifier, the model library and the
 * cards of dropped images: one pure reducer over worker messages and local
 * actions, beside the training state of state.ts.
 */
import type { ErrorData } from '../errors';
import type { LibraryEntry } from '../store/library';
import type { ClassifierInfo } from '../classify/classifier';
import type { MemoryInfo } from '../run/records';
import type { CheckpointSummary, FromWorker } from '../worker/protocol';

export type CardStatus =
  /** No model yet: sent as soon as there is one. */
  | 'waiting'
  /** With the worker. */
  | 'queued'
  | 'done'
  | 'error';

export interface Card {
  id: number;
  name: string;
  /** The file itself, kept to send it again (a new model, or "classify again"). */
  file: File;
  /** Object URL of the file for the thumbnail; only for files whose bytes are a raster format, else null. */
  thumbUrl: string | null;
  status: CardStatus;
  /** The id of the latest request for this card; answers to older ones are ignored. */
  request?: number;
  /** 32 × 32 × 3 bytes the model saw. */
  pixels?: Uint8Array;
  /** 10 class probabilities. */
  probs?: number[];
  /** 32 × 32 bytes: how strongly each pixel drove the top class; null when the worker could not compute it. */
  saliency?: Uint8Array | null;
  error?: ErrorData;
  /** The model's name when classified, so a card says which model spoke. */
  model?: string;
}

export interface ModelsState {
  /** Undefined until the worker has opened (or failed to open) storage. */
  storage?: { checkpoints: boolean; error?: ErrorData };
  /** Undefined until known; null when there is none (or it was resumed or discarded). */
  checkpoint?: CheckpointSummary | null;
  lastSaved?: { epoch: number; step: number; optimizerStep: number };
  classifier: ClassifierInfo | null;
  library: LibraryEntry[];
  modelError?: { action: string; error: ErrorData };
  /** Newest last. */
  cards: Card[];
  /** The worker's tensor memory after the latest classified batch. */
  memory?: MemoryInfo;
}

export const initialModelsState: ModelsState = { classifier: null, library: [], cards: [] };

export type ModelsAction =
  | { type: 'cards-added'; cards: Card[] }
  /** Cards sent to the worker, each under a new request id. */
  | { type: 'cards-queued'; requests: { id: number; request: number }[] }
  | { type: 'card-removed'; id: number }
  | { type: 'cards-cleared' }
  /** The user chose (resume, start over, or a new run): the offer goes away. */
  | { type: 'checkpoint-settled' }
  | { type: 'model-error-dismissed' };

export function reduceModels(state: ModelsState, action: FromWorker | ModelsAction): ModelsState {
  switch (action.type) {
    case 'cards-added':
      return { ...state, cards: state.cards.concat(action.cards) };
    case 'cards-queued': {
      const requests = new Map(action.requests.map((r) => [r.id, r.request]));
      return {
        ...state,
        cards: state.cards.map((c) => {
          const request = requests.get(c.id);
          return request === undefined ? c : { ...withoutResult(c), status: 'queued', request };
        }),
      };
    }
    case 'card-removed':
      return { ...state, cards: state.cards.filter((c) => c.id !== action.id) };
    case 'cards-cleared':
      return { ...state, cards: [] };
    case 'checkpoint-settled':
      return { ...state, checkpoint: null };
    case 'model-error-dismissed': {
      const { modelError: _gone, ...rest } = state;
      return rest;
    }
    case 'storage':
      return {
        ...state,
        storage: action.error ? { checkpoints: action.checkpoints, error: action.error } : { checkpoints: action.checkpoints },
      };
    case 'checkpoint-found':
      return { ...state, checkpoint: action.checkpoint };
    case 'checkpoint-saved':
      return { ...state, lastSaved: { epoch: action.epoch, step: action.step, optimizerStep: action.optimizerStep } };
    case 'classifier':
      // Without a model nothing will answer the cards in flight: they wait for the next one.
      return {
        ...state,
        classifier: action.info,
        cards: action.info ? state.cards : state.cards.map((c) => (c.status === 'queued' ? { ...c, status: 'waiting' } : c)),
      };
    case 'library':
      return { ...state, library: action.models };
    case 'model-error':
      return { ...state, modelError: { action: action.action, error: action.error } };
    case 'classified':
      return applyResults(state, action);
    case 'data-progress':
    case 'data-ready':
    case 'backend':
    case 'model':
    case 'status':
    case 'batch-metrics':
    case 'epoch-end':
    case 'test-result':
    case 'error':
    case 'run-restored':
    case 'model-files':
    case 'handover-archive':
    case 'notice':
    case 'preset-cost':
    case 'run-plan':
    case 'kernel-plan':
    case 'test-images':
    case 'import-progress':
    case 'import-done':
    case 'import-failed':
    case 'data-archive':
      return state;
    default:
      return action satisfies never;
  }
}

/** Results carry the request id: answers for removed cards, or to a request sent again since, are dropped. */
function applyResults(state: ModelsState, action: Extract<FromWorker, { type: 'classified' }>): ModelsState {
  const results = new Map(action.results.map((r) => [r.id, r]));
  const model = state.classifier?.name;
  return {
    ...state,
    memory: action.memory,
    cards: state.cards.map((card): Card => {
      const result = card.request === undefined ? undefined : results.get(card.request);
      if (!result || card.status !== 'queued') return card;
      if (result.ok)
        return {
          ...withoutResult(card),
          status: 'done',
          pixels: result.pixels,
          probs: result.probs,
          saliency: result.saliency,
          ...(model ? { model } : {}),
        };
      // The worker had no model after all: wait for one.
      if (result.error.code === 'no-model') return { ...withoutResult(card), status: 'waiting' };
      return { ...withoutResult(card), status: 'error', error: result.error };
    }),
  };
}

function withoutResult(card: Card): Card {
  const { pixels: _p, probs: _q, saliency: _s, error: _e, model: _m, ...rest } = card;
  return rest;
}

/** The `k` most probable classes, most probable first. */
export function topClasses(probs: readonly number[], classes: readonly string[], k = 3): { name: string; probability: number }[] {
  return probs
    .map((probability, index) => ({ name: classes[index] ?? `class ${index}`, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}
