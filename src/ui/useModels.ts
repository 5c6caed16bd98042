/**
 * The page side of checkpoints, classification and the model library: state,
 * the worker's messages, and the few side effects (object URLs, downloads).
 * React code calls these actions; only the TrainerClient talks to the worker.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, type Dispatch, type RefObject } from 'react';
import { SNIFF_BYTES, sniffFormat } from '../classify/imageFormat';
import type { ModelFiles } from '../model/modelFiles';
import type { TrainerClient } from '../worker/client';
import { initialModelsState, reduceModels, type Card, type ModelsAction, type ModelsState } from './modelsState';
import { saveFile } from './saveFile';

export interface ModelsActions {
  /** Dropped, picked or pasted files: one card each, classified now or as soon as there is a model. */
  addFiles(files: File[]): Promise<void>;
  removeCard(id: number): void;
  clearCards(): void;
  /** Classify every card again with the current model. */
  reclassify(): void;
  resumeCheckpoint(): void;
  startOver(): void;
  /** A new run replaces any checkpoint offer. */
  settleCheckpoint(): void;
  exportModel(id: string | null): void;
  /** The library run `id` as one hand-over archive for PyTorch, downloaded. */
  continueElsewhere(id: string): void;
  importModel(files: File[]): void;
  openModel(id: string): void;
  deleteModel(id: string): void;
  dismissModelError(): void;
}

export function useModels(client: TrainerClient): { state: ModelsState; actions: ModelsActions } {
  const [state, dispatch] = useReducer(reduceModels, initialModelsState);
  const nextRequest = useRef(1);
  // Latest values for callbacks and cleanups that must not re-run on every change.
  const latest = useRef(state);
  useEffect(() => {
    latest.current = state;
  });

  useEffect(() => {
    const unsubscribe = client.subscribe((message) => {
      dispatch(message);
      if (message.type === 'model-files') download(message.files);
      if (message.type === 'handover-archive') saveFile(message.name, new Blob([message.zip], { type: 'application/zip' }));
    });
    return unsubscribe;
  }, [client]);

  const send = useCallback(
    (cards: Card[]) => {
      if (cards.length === 0) return;
      const requests = cards.map((c) => ({ id: c.id, request: nextRequest.current++ }));
      dispatch({ type: 'cards-queued', requests });
      client.classify(cards.map((c, i) => ({ id: (requests[i] as { request: number }).request, name: c.name, file: c.file })));
    },
    [client],
  );

  // A model appeared (or changed): the waiting cards go to it.
  useEffect(() => {
    if (state.classifier) send(latest.current.cards.filter((c) => c.status === 'waiting'));
  }, [state.classifier, send]);

  // Thumbnails' object URLs die with the page's cards.
  useEffect(
    () => () => {
      for (const card of latest.current.cards) if (card.thumbUrl) URL.revokeObjectURL(card.thumbUrl);
    },
    [],
  );

  const cards = useCardActions(dispatch, latest, send);
  const actions = useMemo<ModelsActions>(
    () => ({
      ...cards,
      resumeCheckpoint() {
        dispatch({ type: 'checkpoint-settled' });
        client.resumeCheckpoint();
      },
      startOver() {
        // The offer stays until the worker says the checkpoint is deleted: a
        // reload right after the click must not find it again.
        client.discardCheckpoint();
      },
      settleCheckpoint() {
        dispatch({ type: 'checkpoint-settled' });
      },
      exportModel: (id) => client.exportModel(id),
      continueElsewhere(id) {
        dispatch({ type: 'model-error-dismissed' });
        client.continueElsewhere(id);
      },
      importModel(files) {
        dispatch({ type: 'model-error-dismissed' });
        client.importModel(files);
      },
      openModel(id) {
        dispatch({ type: 'model-error-dismissed' });
        client.openModel(id);
      },
      deleteModel: (id) => client.deleteModel(id),
      dismissModelError: () => dispatch({ type: 'model-error-dismissed' }),
    }),
    [client, cards],
  );

  return { state, actions };
}

/** What the page does with the cards of the user's pictures. */
function useCardActions(
  dispatch: Dispatch<ModelsAction>,
  latest: RefObject<ModelsState>,
  send: (cards: Card[]) => void,
): Pick<ModelsActions, 'addFiles' | 'removeCard' | 'clearCards' | 'reclassify'> {
  const nextId = useRef(1);
  return useMemo(
    () => ({
      async addFiles(files) {
        if (files.length === 0) return;
        const cards = await Promise.all(files.map((file) => newCard(file, nextId.current++)));
        dispatch({ type: 'cards-added', cards });
        if (latest.current.classifier) send(cards);
      },
      removeCard(id) {
        const card = latest.current.cards.find((c) => c.id === id);
        if (card?.thumbUrl) URL.revokeObjectURL(card.thumbUrl);
        dispatch({ type: 'card-removed', id });
      },
      clearCards() {
        for (const card of latest.current.cards) if (card.thumbUrl) URL.revokeObjectURL(card.thumbUrl);
        dispatch({ type: 'cards-cleared' });
      },
      reclassify() {
        if (latest.current.classifier) send(latest.current.cards.filter((c) => c.status === 'done' || c.status === 'error'));
      },
    }),
    [dispatch, latest, send],
  );
}

/** A card for a file the user gave, waiting for a model. */
async function newCard(file: File, id: number): Promise<Card> {
  // Thumbnails only for real raster bytes: an SVG or HTML file named .png never reaches an <img>.
  const head = await file
    .slice(0, SNIFF_BYTES)
    .arrayBuffer()
    .then((b) => new Uint8Array(b))
    .catch(() => new Uint8Array(0));
  const thumbUrl = sniffFormat(head) ? URL.createObjectURL(file) : null;
  return { id, name: file.name || 'pasted image', file, thumbUrl, status: 'waiting' };
}

/** Both files of an export, as two ordinary downloads (the browser may ask once to allow several). */
function download(files: ModelFiles): void {
  const parts: [string, Blob][] = [
    [files.jsonName, new Blob([files.json], { type: 'application/json' })],
    [files.weightsName, new Blob([files.weights], { type: 'application/octet-stream' })],
  ];
  for (const [name, blob] of parts) saveFile(name, blob);
}
