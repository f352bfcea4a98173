// The usual set-up of a test file: one server for the file's tests, a support
// admin's token, and the server closed after the last test.
import { startTestApp, type TestApp } from "./test-app";
import { supportAdmin, tokenFor } from "./factories";
import { createPgLogStore, type LogStore } from "../../src/maillog/sql";

export interface StartedTestApp {
  app: TestApp;
  /** A support admin's token. */
  support: string;
}

/** Registers beforeAll/afterAll; `receive` gets the server once it is up. */
export function useTestApp(receive: (started: StartedTestApp) => void, overrides: Record<string, string> = {}): void {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startTestApp(overrides);
    receive({ app, support: await tokenFor(app, await supportAdmin(app)) });
  });
  afterAll(() => app?.close());
}

/** A log store on the run's database (the collector's own connection) for a file's tests, closed after the last. */
export function useLogStore(receive: (store: LogStore) => void): void {
  let store: LogStore | undefined;
  beforeAll(() => {
    store = createPgLogStore(process.env.DATABASE_URL!);
    receive(store);
  });
  afterAll(() => store?.close());
}
