// The few parts of jasmine-core 3.99 that run.ts drives (the package ships no types).
declare module 'jasmine-core/lib/jasmine-core/jasmine.js' {
  interface FailedExpectation {
    message: string;
  }
  interface SpecDone {
    id: string;
    fullName: string;
    status: 'passed' | 'failed' | 'pending' | 'excluded';
    failedExpectations: FailedExpectation[];
    duration: number | null;
  }
  interface SuiteDone {
    id: string;
    fullName: string;
    failedExpectations: FailedExpectation[];
  }
  interface JasmineDone {
    failedExpectations: FailedExpectation[];
  }
  interface Reporter {
    specDone?(result: SpecDone): void;
    suiteDone?(result: SuiteDone): void;
    jasmineDone?(result: JasmineDone): void;
  }
  interface Env {
    configure(options: { random?: boolean; verboseDeprecations?: boolean }): void;
    addReporter(reporter: Reporter): void;
    execute(): Promise<void>;
  }
  interface Jasmine {
    DEFAULT_TIMEOUT_INTERVAL: number;
    getEnv(): Env;
  }
  /** describe, it, expect, beforeAll, … and `jasmine` itself, to be installed as globals. */
  type Interface = Record<string, unknown> & { it: (...args: unknown[]) => { id: string } };
  const jasmineRequire: {
    core(jasmineRequire: unknown): Jasmine;
    interface(jasmine: Jasmine, env: Env): Interface;
  };
  export type { Env };
  export default jasmineRequire;
}
