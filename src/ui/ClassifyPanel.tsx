/**
 * "Classify your own images": drop anywhere on the page, pick files, or paste.
 * One card per file: its thumbnail, the 32 × 32 image the model sees, and the
 * three most probable classes — or, for a file that is not a decodable
 * picture, an error in words. Decoding and prediction run in the worker.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { IMAGE } from '../data/format';
import { describeError } from './errorText';
import { ImageCanvas } from './ImageCanvas';
import { heatPixels, hotArea } from './saliencyOverlay';
import { topClasses, type Card, type ModelsState } from './modelsState';
import type { ModelsActions } from './useModels';

const percent = (p: number) => `${(p * 100).toFixed(1)}%`;

export function ClassifyPanel({
  models,
  actions,
  classes,
}: {
  models: ModelsState;
  actions: ModelsActions;
  classes: string[] | undefined;
}) {
  const dragging = useDropAndPaste(actions.addFiles);
  const names = models.classifier?.classes ?? classes ?? [];
  return (
    <section className="panel" aria-label="Classify your own images">
      <h2>Classify your own images</h2>
      <DropZone models={models} dragging={dragging} classes={names} addFiles={actions.addFiles} />
      {models.cards.length > 0 && <CardList models={models} actions={actions} classes={names} />}
    </section>
  );
}

/** Drop anywhere and paste anywhere: listeners on the window, not on one element. True while files are dragged over the page. */
function useDropAndPaste(addFiles: (files: File[]) => Promise<void>): boolean {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const onDragOver = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault(); // allows the drop (and stops the browser from opening the file)
      setDragging(true);
    };
    const onDragLeave = (event: DragEvent) => {
      if (event.relatedTarget === null) setDragging(false);
    };
    const onDrop = (event: DragEvent) => {
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      setDragging(false);
      void addFiles(files);
    };
    const onPaste = (event: ClipboardEvent) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return; // text pasted into a field stays text
      event.preventDefault();
      void addFiles(files);
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('dragleave', onDragLeave);
    window.addEventListener('drop', onDrop);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('dragleave', onDragLeave);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('paste', onPaste);
    };
  }, [addFiles]);
  return dragging;
}

/** Where pictures go in, and which model will classify them. */
function DropZone({
  models,
  dragging,
  classes,
  addFiles,
}: {
  models: ModelsState;
  dragging: boolean;
  classes: string[];
  addFiles: (files: File[]) => Promise<void>;
}) {
  const classifier = models.classifier;
  return (
    <div
      className={`dropzone${dragging ? ' dragging' : ''}${classifier ? '' : ' no-model'}`}
      data-testid="dropzone"
      data-model={classifier ? 'yes' : 'no'}
      data-tensors={models.memory?.numTensors}
      data-bytes={models.memory?.numBytes}
    >
      <p>
        Drop pictures anywhere on this page, paste them (Ctrl+V / ⌘V), or{' '}
        <label className="file-button">
          choose files
          <input
            type="file"
            multiple
            accept="image/jpeg,image/png,image/gif,image/webp,image/bmp,image/avif"
            data-testid="classify-files"
            onChange={(event) => {
              void addFiles([...(event.target.files ?? [])]);
              event.target.value = '';
            }}
          />
        </label>
        . JPEG, PNG, GIF, WebP, BMP and AVIF.
      </p>
      <p className="model-line" data-testid="classifier">
        {classifier ? (
          <>
            Classifying with <strong>{classifier.name}</strong>
            {classifier.source === 'training' ? ' (a snapshot of the weights as they are now, taken for each batch of pictures)' : ''}.
          </>
        ) : (
          <>No trained model yet: train one, or open one from the library below. Pictures you drop wait here until there is one.</>
        )}
      </p>
      <p className="hint">
        The model knows only the {classes.length || 10} classes it was trained on ({classes.join(', ') || 'airplane, automobile, bird, …'}):
        anything else is still called one of them. Each picture is cropped to its centre square and shrunk to the 32 × 32 pixels shown on
        its card.
      </p>
    </div>
  );
}

function CardList({ models, actions, classes }: { models: ModelsState; actions: ModelsActions; classes: string[] }) {
  const done = models.cards.filter((c) => c.status === 'done').length;
  const pending = models.cards.filter((c) => c.status === 'queued').length;
  const [showSaliency, setShowSaliency] = useState(true);
  return (
    <>
      <div className="controls">
        <label className="count">
          <input type="checkbox" checked={showSaliency} onChange={(e) => setShowSaliency(e.target.checked)} /> Show which pixels drove each
          prediction
        </label>
        <span className="count" data-testid="classify-count">
          {done} of {models.cards.length} classified{pending > 0 ? `, ${pending} in progress` : ''}
        </span>
        <button type="button" data-testid="reclassify" onClick={actions.reclassify} disabled={!models.classifier}>
          Classify again
        </button>
        <button type="button" data-testid="clear-cards" onClick={actions.clearCards}>
          Remove all
        </button>
      </div>
      <div className="cards">
        {models.cards.map((card) => (
          <PredictionCard
            key={card.id}
            card={card}
            classes={classes}
            showSaliency={showSaliency}
            onRemove={() => actions.removeCard(card.id)}
          />
        ))}
      </div>
    </>
  );
}

function PredictionCard({
  card,
  classes,
  showSaliency,
  onRemove,
}: {
  card: Card;
  classes: string[];
  showSaliency: boolean;
  onRemove(): void;
}) {
  const remove = (
    <button type="button" className="remove" aria-label={`Remove ${card.name}`} title="Remove" onClick={onRemove}>
      ×
    </button>
  );
  const thumb = card.thumbUrl ? (
    <img className="thumb" src={card.thumbUrl} alt="" decoding="async" loading="lazy" />
  ) : (
    <div className="thumb none" aria-hidden="true" />
  );

  if (card.status === 'error' && card.error) {
    const { message, nextStep } = describeError(card.error);
    return (
      <figure className="card error-card" data-testid="prediction-error" data-code={card.error.code} data-name={card.name}>
        {thumb}
        <figcaption>
          <strong className="name">{card.name}</strong>
          <span className="error-text">{message}</span>
          <small>{nextStep}</small>
        </figcaption>
        {remove}
      </figure>
    );
  }
  if (card.status !== 'done' || !card.probs || !card.pixels) {
    return (
      <figure className="card" data-testid={card.status === 'waiting' ? 'prediction-waiting' : 'prediction-pending'} data-name={card.name}>
        {thumb}
        <figcaption>
          <strong className="name">{card.name}</strong>
          <span>{card.status === 'waiting' ? 'Waiting for a trained model.' : 'Classifying…'}</span>
        </figcaption>
        {remove}
      </figure>
    );
  }
  return (
    <ClassifiedCard card={card} pixels={card.pixels} probs={card.probs} classes={classes} showSaliency={showSaliency} thumb={thumb}>
      {remove}
    </ClassifiedCard>
  );
}

/** A classified picture: thumbnail and model input (each under its saliency map), and the three most probable classes. */
function ClassifiedCard({
  card,
  pixels,
  probs,
  classes,
  showSaliency,
  thumb,
  children,
}: {
  card: Card;
  pixels: Uint8Array;
  probs: number[];
  classes: string[];
  showSaliency: boolean;
  thumb: ReactNode;
  children: ReactNode;
}) {
  const top = topClasses(probs, classes);
  const overlay = showSaliency && card.saliency ? card.saliency : null;
  return (
    <figure
      className="card"
      data-testid="prediction"
      data-name={card.name}
      data-label={top[0]?.name}
      // Full precision for automation: the same image and model must give the same numbers.
      data-probs={probs.map((p) => p.toFixed(6)).join(',')}
    >
      <div className="images">
        <span className="overlaid">
          {thumb}
          {overlay && <SaliencyLayer map={overlay} label={`What drove “${top[0]?.name}” in ${card.name}`} testId="saliency-thumb" />}
        </span>
        <span className="overlaid">
          <span className="seen" data-testid="model-input" title="What the model sees: 32 × 32 pixels">
            <ImageCanvas pixels={pixels} index={0} title={`${card.name} as the model sees it (32 × 32)`} size={64} />
          </span>
          {overlay && <SaliencyLayer map={overlay} label={`Saliency map of ${card.name} for “${top[0]?.name}”`} testId="saliency" />}
        </span>
      </div>
      <figcaption>
        <strong className="name">{card.name}</strong>
        <ol className="top3">
          {top.map(({ name, probability }) => (
            <li key={name}>
              <span className="label">{name}</span>
              <span className="prob-bar" aria-hidden="true">
                <span style={{ width: percent(probability) }} />
              </span>
              <span className="prob">{percent(probability)}</span>
            </li>
          ))}
        </ol>
        {card.model && <small className="by">by {card.model}</small>}
      </figcaption>
      {children}
    </figure>
  );
}

/**
 * A saliency map over a picture: the gradient of the top class with respect to
 * each input pixel, computed in the worker; hot pixels drove the prediction.
 */
function SaliencyLayer({ map, label, testId }: { map: Uint8Array; label: string; testId: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(heatPixels(map), IMAGE.width, IMAGE.height), 0, 0);
  }, [map]);
  const area = hotArea(map);
  const text = `${label}: ${area ? `strongest in the ${area}` : 'no pixel stands out'}.`;
  return (
    <canvas
      ref={ref}
      className="saliency"
      width={IMAGE.width}
      height={IMAGE.height}
      role="img"
      aria-label={text}
      title={text}
      data-testid={testId}
    />
  );
}
