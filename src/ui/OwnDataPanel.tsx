/**
 * Your own classes: drop or pick a folder of class folders (or a zip of one),
 * watch it being read, see what was kept and what was left out and why, and
 * switch between it and CIFAR-10. The pictures never leave the browser.
 */
import { useEffect, useState, type DragEvent } from 'react';
import type { SkipReason, SkippedClass } from '../data/folderLayout';
import { MAX_ZIP_CONTENT_BYTES, type ImportReport } from '../data/ownImport';
import { OWN_DATA_LIMITS } from '../data/folderLayout';
import type { TrainerClient } from '../worker/client';
import { OWN_DATA_ID, type DataReady } from './DataPanel';
import { describeError } from './errorText';
import { droppedData, pickedDrop, type DataDrop } from './dropFolder';
import type { OwnImportState } from './state';
import { saveFile } from './saveFile';

const SKIP_WORDS: Record<SkipReason, string> = {
  hidden: 'hidden or system file',
  'outside-class-folders': 'not inside a class folder',
};

const CLASS_WORDS: Record<SkippedClass['reason'], string> = {
  empty: 'no picture',
  'too-few': `fewer than ${OWN_DATA_LIMITS.minPerClass} pictures, too few to split into training, validation and test`,
};

export function OwnDataPanel({
  client,
  data,
  ownImport,
  busy,
  onImport,
  onUse,
}: {
  client: TrainerClient;
  /** The data set in use, once loaded. */
  data: DataReady | undefined;
  ownImport: OwnImportState | undefined;
  /** A run or a load is under way: importing and switching wait. */
  busy: boolean;
  onImport: (drop: DataDrop) => void;
  onUse: (source: 'cifar10' | 'own') => void;
}) {
  const [over, setOver] = useState(false);
  useArchiveDownload(client);
  const reading = ownImport?.status === 'reading';
  const blocked = busy || reading;
  const take = (drop: DataDrop) => {
    if (drop.files.length > 0 && !blocked) onImport(drop);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    // Not also a picture to classify (ClassifyPanel listens on the window).
    event.stopPropagation();
    setOver(false);
    void droppedData(event.dataTransfer).then(take);
  };
  return (
    <section className="panel own-data" aria-label="Your own classes" id={OWN_DATA_ID}>
      <h2>Your own classes</h2>
      <div
        className={over ? 'dropzone dragging' : 'dropzone'}
        data-testid="own-drop"
        onDragOver={(event) => {
          event.preventDefault();
          event.stopPropagation();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>
          Drop a folder here with one folder per class inside (the folder names become the class names), or a .zip of such a folder. Each
          picture (JPEG, PNG, WebP, GIF, BMP or AVIF) is cropped to its centre square and shrunk to 32 × 32 pixels, the size the
          presets&apos; networks take. {OWN_DATA_LIMITS.minClasses} to {OWN_DATA_LIMITS.maxClasses} classes, at least{' '}
          {OWN_DATA_LIMITS.minPerClass} pictures each, a zip of at most {MAX_ZIP_CONTENT_BYTES / 1024 ** 3} GB. The pictures stay in this
          browser; one data set is kept at a time.
        </p>
        <div className="controls">
          <label className="file-button">
            Choose a folder…
            <input
              type="file"
              data-testid="own-folder-input"
              // Not in React's types: the attribute every current browser reads for a folder picker.
              {...{ webkitdirectory: '' }}
              multiple
              disabled={blocked}
              onChange={(event) => {
                take(pickedDrop([...(event.target.files ?? [])]));
                event.target.value = '';
              }}
            />
          </label>
          <label className="file-button">
            Choose a zip…
            <input
              type="file"
              data-testid="own-zip-input"
              accept=".zip,application/zip"
              disabled={blocked}
              onChange={(event) => {
                take(pickedDrop([...(event.target.files ?? [])]));
                event.target.value = '';
              }}
            />
          </label>
        </div>
      </div>
      <ImportStatus ownImport={ownImport} />
      <SourceChoice client={client} data={data} busy={blocked} onUse={onUse} />
    </section>
  );
}

function ImportStatus({ ownImport }: { ownImport: OwnImportState | undefined }) {
  if (!ownImport) return null;
  switch (ownImport.status) {
    case 'reading': {
      const p = ownImport.progress;
      return (
        <div data-testid="own-progress" role="status">
          <p>
            {p ? `Reading pictures: ${p.decoded.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')}…` : 'Reading the folder…'}
          </p>
          <progress max={1} value={p && p.total > 0 ? p.decoded / p.total : 0} aria-label="Pictures read" />
        </div>
      );
    }
    case 'failed': {
      const { message, nextStep } = describeError(ownImport.error);
      return (
        <p className="error" data-testid="own-error" role="alert">
          {message} {ownImport.error.code === 'dataset-invalid' ? nextStep : 'The data set in use is unchanged.'}
        </p>
      );
    }
    case 'done':
      return <ImportReportView name={ownImport.info.name} report={ownImport.info.report} seconds={ownImport.info.seconds} />;
  }
}

/** What was read: pictures per class, and every file or class left out, by name, with the reason. */
function ImportReportView({ name, report, seconds }: { name: string; report: ImportReport; seconds: number }) {
  const total = report.counts.reduce((n, c) => n + c.count, 0);
  const left = report.unreadable.length + report.skippedFiles.length + report.skippedClasses.length;
  return (
    <div className="import-report" data-testid="own-report">
      <p role="status">
        Stored “{name}”: {report.counts.length} classes, {total.toLocaleString('en-US')} pictures
        {left > 0 ? `; ${left} left out (below)` : ', nothing left out'}. Read in{' '}
        <span data-testid="own-seconds">{seconds.toFixed(1)}</span> s.
      </p>
      {left > 0 && (
        <details open>
          <summary>Left out</summary>
          <ul data-testid="own-left-out">
            {report.skippedClasses.map((c) => (
              <li key={`class:${c.name}`}>
                class “{c.name}”: {CLASS_WORDS[c.reason]}
                {c.count > 0 ? ` (${c.count})` : ''}
              </li>
            ))}
            {report.unreadable.map((f) => (
              // The decoder's message names the file already, as the classifier's cards show it.
              <li key={`file:${f.path}`}>{f.message.includes(f.path) ? f.message : `${f.path}: ${f.message}`}</li>
            ))}
            {report.skippedFiles.map((f) => (
              <li key={`skip:${f.path}`}>
                {f.path}: {SKIP_WORDS[f.reason]}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

/** CIFAR-10 or the stored data set of the user's, and the stored one as a zip for Python. */
function SourceChoice({
  client,
  data,
  busy,
  onUse,
}: {
  client: TrainerClient;
  data: DataReady | undefined;
  busy: boolean;
  onUse: (source: 'cifar10' | 'own') => void;
}) {
  if (!data) return null;
  return (
    <div className="controls">
      {data.source === 'own' ? (
        <button type="button" data-testid="use-cifar10" disabled={busy} onClick={() => onUse('cifar10')}>
          Train on CIFAR-10 instead
        </button>
      ) : (
        data.ownStored !== null && (
          <button type="button" data-testid="use-own" disabled={busy} onClick={() => onUse('own')}>
            Train on “{data.ownStored}” instead
          </button>
        )
      )}
      {data.ownStored !== null && (
        <button type="button" data-testid="export-data" onClick={() => client.exportData()}>
          Download “{data.ownStored}” for Python
        </button>
      )}
    </div>
  );
}

/** The export arrives as a message; it is saved as an ordinary download. */
function useArchiveDownload(client: TrainerClient): void {
  useEffect(
    () =>
      client.subscribe((message) => {
        if (message.type === 'data-archive') saveFile(message.name, new Blob([message.zip], { type: 'application/zip' }));
      }),
    [client],
  );
}
