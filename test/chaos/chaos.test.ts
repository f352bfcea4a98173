// A short chaos run in every test pass: a few hundred random operations, valid
// and invalid, from every kind of caller, through the real API; after each
// step the database must hold its invariants (one administrator per domain,
// quotas within limits, an audit record per accepted change, nothing accepted
// that a role may not do, the stored state exactly the model's). The seed is
// fixed so that a failure replays; the long run is `npm run bench:chaos`.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { describeReport, runChaos } from "../helpers/chaos/run";

const SEED = 20261128;
const STEPS = 300;

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({
    // The run logs in with wrong passwords hundreds of times on purpose; the
    // lockout is tested in test/auth, here it would only get in the way.
    LOGIN_MAX_FAILURES: "1000",
    RATE_LIMIT_ENABLED: "false",
    LOG_LEVEL: "warn",
  });
});

afterAll(async () => {
  await app.close();
});

test(`${STEPS} random operations from every role keep every invariant (seed ${SEED})`, async () => {
  const report = await runChaos(
    { url: app.url, db: app.deps.db, passwords: app.deps.passwords, defaultMailboxQuotaMb: app.config.DEFAULT_MAILBOX_QUOTA_MB },
    { seed: SEED, maxSteps: STEPS },
  );
  if (report.violations.length > 0) throw new Error(describeReport(report));
  expect(report.violations).toEqual([]);
  expect(report.policyViolations).toBe(0);
  expect(report.steps).toBe(STEPS);
  // The run did exercise both sides: accepted changes (with their audit
  // records) and refusals of each kind.
  expect(report.accepted).toBeGreaterThan(STEPS / 5);
  expect(report.auditRecordsChecked).toBeGreaterThan(STEPS / 10);
  for (const code of ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "QUOTA_EXCEEDED"]) {
    expect(report.codes[code] ?? 0).toBeGreaterThan(0);
  }
}, 120_000);
