// jasmine-core, loaded as CommonJS, takes `global` for its global object and
// falls back to an empty one (no timers) where there is none, as in a browser
// bundle. Imported before jasmine-core for that reason.
const g = globalThis as { global?: typeof globalThis };
g.global ??= globalThis;
