/**
 * Everything a URL can say: every setting (so a run can be shared and
 * automated) plus the page options below. Unknown or invalid values are
 * reported, never silently ignored.
 */
import { BACKEND_REQUESTS, TUNE_MODES, type BackendRequest, type TuneMode } from '../worker/protocol';
import { SETTING_KEYS } from '../run/settings';
import { defaultFields } from './fields';

/** Page options that are not training settings. */
const PAGE_PARAMS = ['backend', 'autostart', 'data', 'softwareGpu', 'tune', 'workers'] as const;

/** Most workers `?workers=` may ask for (tfjs-backend-wasm's thread pool holds at most 8 as well). */
export const MAX_URL_WORKERS = 8;

/** A folder of this site: starts with one slash (two would name another host), then plain path characters. */
const SAME_ORIGIN_PATH = /^\/(?!\/)[\w\-./]*$/;

export interface UrlOptions {
  /** Text for each settings field: the URL's value, else the default under the URL's preset. */
  fields: Record<string, string>;
  /** The settings the URL gives, as opposed to defaults. */
  given: string[];
  /** URL parameters that are neither a setting nor a page option. */
  unknown: string[];
  backend: BackendRequest;
  backendError?: string;
  autostart: boolean;
  /** Let `auto` pick a software-rendered GPU API (normally passed over for WASM): for trying the GPU code paths on a machine without a GPU. */
  softwareGpu: boolean;
  /** The shard folder, ending in '/': `data=/some/path/`, else `defaultDataPath`. */
  dataPath: string;
  dataError?: string;
  /** Whether convolution formulations are timed on this device before a run (see TUNE_MODES). */
  tune: TuneMode;
  tuneError?: string;
  /** Workers training together on WASM (`workers=1` … MAX_URL_WORKERS, e.g. 1 to compare with threads alone); null for the default plan. */
  workers: number | null;
  workersError?: string;
}

export function readUrlOptions(search: string, defaultDataPath = '/data/cifar10/'): UrlOptions {
  const query = new URLSearchParams(search);
  const fields: Record<string, string> = {};
  const defaults = defaultFields(query.get('preset') ?? undefined);
  for (const key of SETTING_KEYS) fields[key] = query.get(key) ?? (defaults[key] as string);
  const known = new Set<string>([...SETTING_KEYS, ...PAGE_PARAMS]);
  const unknown = [...new Set(query.keys())].filter((k) => !known.has(k));
  const backendText = query.get('backend') ?? 'auto';
  const backendOk = (BACKEND_REQUESTS as readonly string[]).includes(backendText);
  const data = query.get('data');
  const dataOk = data === null || SAME_ORIGIN_PATH.test(data);
  const tuneText = query.get('tune') ?? 'auto';
  const tuneOk = (TUNE_MODES as readonly string[]).includes(tuneText);
  const options: UrlOptions = {
    fields,
    given: SETTING_KEYS.filter((key) => query.has(key)),
    unknown,
    backend: backendOk ? (backendText as BackendRequest) : 'auto',
    autostart: isOn(query.get('autostart')),
    softwareGpu: isOn(query.get('softwareGpu')),
    dataPath: data !== null && dataOk ? data.replace(/\/?$/, '/') : defaultDataPath,
    tune: tuneOk ? (tuneText as TuneMode) : 'auto',
    workers: null,
  };
  const workersText = query.get('workers');
  if (workersText !== null) {
    const workers = /^\d+$/.test(workersText) ? Number(workersText) : Number.NaN;
    if (workers >= 1 && workers <= MAX_URL_WORKERS) options.workers = workers;
    else
      options.workersError = `The workers option "${workersText}" in the URL must be a whole number from 1 to ${MAX_URL_WORKERS}; using the default.`;
  }
  if (!tuneOk) options.tuneError = `Unknown tune option "${tuneText}" in the URL: use one of ${TUNE_MODES.join(', ')}; using auto.`;
  if (!backendOk) options.backendError = `Unknown backend "${backendText}" in the URL: use one of ${BACKEND_REQUESTS.join(', ')}.`;
  // The page must never be pointed at another site's files.
  if (!dataOk)
    options.dataError = `The data folder "${data}" in the URL is not a path on this site (such as /data/cifar10/); loading the default one.`;
  return options;
}

const isOn = (value: string | null) => value !== null && ['1', 'true', 'on'].includes(value);
