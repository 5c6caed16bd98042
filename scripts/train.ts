/**
 * `npm run train`: the same training run as the page, without a person. It
 * serves the built app, drives it in headless Chromium with the given
 * settings, prints one line per epoch and, with --json, writes the results.
 *
 *   npm run train -- --preset tiny --epochs 1 --trainLimit 5000 --backend webgl --json out.json
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { SettingsError } from '../src/errors';
import type { EpochRecord } from '../src/run/records';
import { timeToAccuracy } from '../src/run/timeToAccuracy';
import { formatSeconds } from '../src/ui/progress';
import { DEFAULT_SETTINGS, SETTINGS_SPEC, SETTING_KEYS, parseSettings, settingsToQuery, type Settings } from '../src/run/settings';
import type { AutomationEvent } from '../src/ui/automation';
import { BACKEND_REQUESTS } from '../src/worker/protocol';
import { CHROMIUM_ARGS, chromiumPath } from './browser';
import { serveBuiltApp } from './serve';

/** One origin for every --profile run: the page's checkpoint is stored per origin. */
const PROFILE_PORT = 4879;

/** One line per setting, from the same spec as the page's form. */
function settingsUsage(): string {
  return SETTING_KEYS.map((key) => {
    const spec = SETTINGS_SPEC[key];
    const values =
      spec.kind === 'choice'
        ? spec.options.map((o) => o.value).join('|')
        : spec.kind === 'switch'
          ? 'true|false'
          : `<${spec.min}${spec.max === Number.MAX_SAFE_INTEGER ? '+' : `–${spec.max}`} ${spec.unit}>`;
    return `  --${key} ${values}\n      ${spec.label}: ${spec.help} (default ${String(DEFAULT_SETTINGS[key])})`;
  }).join('\n');
}

const USAGE = `Usage: npm run train -- [settings] [--backend auto|webgpu|webgl|wasm|cpu] [--workers N] [--json PATH] [--no-build]
                         [--profile DIR [--resume]] [--stop-after N] [--handover PATH]

  --workers N   on WASM, N workers train each batch together (default: 2 where there are 2 or more cores;
                1 trains in one worker on every core's threads), as the page's ?workers=
  --profile DIR a browser profile kept in DIR, served on port ${PROFILE_PORT}: the page's checkpoint after each
                epoch stays there, so a run whose command was killed can be continued
  --resume      with --profile: continue the profile's unfinished run (its own settings, from its last
                checkpoint) if it holds one, else start a new run
  --stop-after N press Stop once epoch N has ended, as a person would: the run keeps its settings (epochs, and
                so its learning-rate schedule), and a hand-over of it continues to the end elsewhere; 0 stops
                it as it starts, and its hand-over is the run before its first step, for PyTorch to train whole
  --handover PATH
                once the run is in the page's library, save its "Continue elsewhere" zip to PATH, for
                python -m cifar_tab.train --from PATH (python/README.md)

Settings (as in the page's form; a preset's own defaults apply where it has them):
${settingsUsage()}
`;

/** The run's epochs, a resumed run's restored ones first. */
function epochRecords(events: readonly AutomationEvent[]): EpochRecord[] {
  return events.flatMap((e) => (e.type === 'epoch-end' ? [e.record] : e.type === 'run-restored' ? e.epochs : []));
}

/** The epoch a resumed run went on from; null for a run trained in one go. */
function restoredEpochs(events: readonly AutomationEvent[]): number | null {
  const restored = events.find((e): e is Extract<AutomationEvent, { type: 'run-restored' }> => e.type === 'run-restored');
  return restored ? (restored.epochs.at(-1)?.epoch ?? 0) : null;
}

async function main(): Promise<number> {
  const settingOptions = Object.fromEntries(SETTING_KEYS.map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({
    options: {
      ...settingOptions,
      backend: { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'string' },
      'no-build': { type: 'boolean' },
      profile: { type: 'string' },
      resume: { type: 'boolean' },
      'stop-after': { type: 'string' },
      handover: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const given = values as Record<string, string | boolean | undefined>;
  const raw = Object.fromEntries(SETTING_KEYS.filter((k) => typeof given[k] === 'string').map((k) => [k, given[k] as string]));
  const settings: Settings = parseSettings(raw);
  const backend = (values.backend as string | undefined) ?? 'auto';
  if (!(BACKEND_REQUESTS as readonly string[]).includes(backend))
    throw new Error(`--backend must be one of ${BACKEND_REQUESTS.join(', ')}`);

  if (values.resume && !values.profile) throw new Error('--resume needs --profile DIR: the checkpoint lives in that profile');
  const stopAfter = values['stop-after'] === undefined ? null : Number(values['stop-after']);
  if (stopAfter !== null && !(Number.isInteger(stopAfter) && stopAfter >= 0 && stopAfter < settings.epochs))
    throw new Error(`--stop-after must be a whole number of epochs from 0 to ${settings.epochs - 1} (the run's epochs less one)`);

  const served = await serveBuiltApp({ rebuild: !values['no-build'], port: values.profile ? PROFILE_PORT : 0 });
  const launch = { executablePath: chromiumPath(), args: CHROMIUM_ARGS };
  // Without a profile the browser is ours to close; a persistent context closes its own browser.
  const browser = values.profile ? null : await chromium.launch(launch);
  const context = browser ? await browser.newContext() : await chromium.launchPersistentContext(values.profile as string, launch);
  const started = performance.now();
  let config = settings;
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const events: AutomationEvent[] = [];
    let resolveStarted: () => void = () => undefined;
    const runStarted = new Promise<'started'>((resolve) => (resolveStarted = () => resolve('started')));
    let resolveEnd: (event: AutomationEvent) => void = () => undefined;
    const finished = new Promise<AutomationEvent>((resolve) => (resolveEnd = resolve));
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    await page.exposeFunction('__cifarAutomation', (event: AutomationEvent) => {
      events.push(event);
      switch (event.type) {
        case 'backend':
          console.log(
            `backend: ${event.info.name} (${event.info.adapter})${event.info.fallbackReasons.length ? ` — ${event.info.fallbackReasons.join('; ')}` : ''}`,
          );
          break;
        case 'epoch-end': {
          const e = event.record;
          console.log(
            `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)} acc ${(e.trainAccuracy * 100).toFixed(1)}% | ${e.valLoss === null ? 'no validation' : `val loss ${e.valLoss.toFixed(4)} acc ${((e.valAccuracy ?? 0) * 100).toFixed(1)}%`} | ${e.seconds.toFixed(1)} s, ${e.imagesPerSecond.toFixed(1)} img/s${e.best ? ' *' : ''}`,
          );
          for (const r of timeToAccuracy(epochRecords(events)).filter((r) => r.epoch === e.epoch)) {
            console.log(
              `  reached ${Math.round(r.threshold * 100)} % validation accuracy ${formatSeconds(r.seconds)} after Train (${r.seconds.toFixed(1)} s, ${r.images?.toLocaleString('en-US') ?? '?'} training images)`,
            );
          }
          if (e.epoch === stopAfter) {
            console.log(`stopping after epoch ${e.epoch} (--stop-after)`);
            void page.getByTestId('stop').click();
          }
          break;
        }
        case 'test-result':
        case 'error':
          resolveEnd(event);
          break;
        case 'status':
          if (event.status === 'training') {
            resolveStarted();
            if (stopAfter === 0) {
              console.log('stopping as the run starts (--stop-after 0)');
              void page.getByTestId('stop').click();
            }
          }
          if (event.status === 'done') resolveDone();
          break;
        case 'run-restored': {
          config = event.settings;
          const last = event.epochs.at(-1);
          console.log(`resumed after epoch ${last?.epoch ?? 0} (${event.epochs.length} epochs restored from the profile's checkpoint)`);
          resolveStarted();
          break;
        }
      }
    });
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    const query = settingsToQuery(settings);
    query.set('backend', backend);
    query.set('autostart', '1');
    if (values.workers !== undefined) query.set('workers', values.workers);
    await page.goto(`${served.url}?${query}`);
    // With an unfinished run stored, the page waits for a choice instead of starting.
    const waiting = page
      .getByTestId('resume')
      .waitFor({ state: 'visible', timeout: 0 })
      .then(
        () => 'checkpoint' as const,
        () => 'closed' as const,
      );
    const first = await Promise.race([runStarted, waiting, finished.then(() => 'ended' as const)]);
    if (first === 'checkpoint') {
      if (!values.resume) {
        throw new Error(
          `the profile ${values.profile ?? ''} holds an unfinished run: add --resume to continue it, or use another --profile`,
        );
      }
      await page.getByTestId('resume').click({ timeout: 0 });
    }
    // The library as it was when the run started (loaded at start-up): the run's own entry is the one added later.
    const entries = page.getByTestId('library-entry');
    const before = await entries.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    const end = await finished;
    if (end.type === 'error') throw new Error(end.error.message);
    if (end.type !== 'test-result') throw new Error('The run ended without a result');
    const info = events.find((e): e is Extract<AutomationEvent, { type: 'backend' }> => e.type === 'backend')?.info;
    const { accuracy, loss, count, perClass, confusion } = end.result;
    console.log(`test: accuracy ${(accuracy * 100).toFixed(2)}%, loss ${loss.toFixed(4)} on ${count} images`);
    const report = {
      config,
      backend: info?.name,
      adapter: info?.adapter,
      resumedAfterEpoch: restoredEpochs(events),
      epochs: epochRecords(events).map(({ best: _best, ...rest }) => rest),
      // One entry per validation accuracy reached: seconds from Train (pauses excluded) and training images by then.
      timeToAccuracy: timeToAccuracy(epochRecords(events)),
      test: { accuracy, loss, count, perClass, confusion },
      totalSeconds: (performance.now() - started) / 1000,
    };
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    if (values.handover) {
      await done;
      const added = await page.waitForFunction(
        (known) =>
          [...document.querySelectorAll('[data-testid="library-entry"]')]
            .map((r) => r.getAttribute('data-id'))
            .find((id) => !known.includes(id)),
        before,
        { timeout: 60_000 },
      );
      const id = (await added.jsonValue()) as string;
      const downloading = page.waitForEvent('download');
      await entries
        .and(page.locator(`[data-id="${id}"]`))
        .getByTestId('library-continue')
        .click();
      await (await downloading).saveAs(values.handover);
      console.log(`hand-over: ${values.handover}`);
    }
    return 0;
  } finally {
    await context.close();
    await browser?.close();
    await served.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message =
      error instanceof SettingsError ? `${error.message}: ${Object.values(error.fields).join('; ')}` : (error as Error).message;
    console.error(`error: ${message}`);
    process.exit(1);
  },
);
