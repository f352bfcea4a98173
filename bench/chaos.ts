// The long chaos run: random valid and invalid operations from every role
// through the real API for minutes, with the database's invariants checked
// after every step (test/helpers/chaos/run.ts says which).
//
//   npm run bench:chaos -- --minutes 5 --seed 42              # embedded database, in memory
//   DATABASE_URL=postgresql://.../mailadmin_bench npm run bench:chaos -- --minutes 5
//
// Options: --minutes M (default 5), --seed N (default: random, printed so
// that the run can be replayed), --steps N (stop after N steps instead).
// The same seed replays the same operations. Exit status 1 on any violation.
// A PostgreSQL database must have "bench" in its name: its schema is emptied.
import { randomBytes, randomInt } from "node:crypto";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { startApp, type RunningApp } from "../src/app";
import { emptyDatabase } from "../src/db/reset";
import { describeReport, runChaos } from "../test/helpers/chaos/run";
import { numberOption, runBench } from "./bench-support";

async function main() {
  const minutes = numberOption("minutes", 5);
  const seed = numberOption("seed", randomInt(1, 2 ** 31));
  const steps = numberOption("steps", Number.POSITIVE_INFINITY);
  const external = process.env.DATABASE_URL;
  if (external) await emptyDatabase(external, "bench");
  const config = loadConfig({
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    ...(external ? { DATABASE_URL: external } : { DATA_DIR: "memory://" }),
    JWT_SECRET: randomBytes(48).toString("base64"),
    // Required in production; createDomain makes each new domain's DKIM key with it.
    DKIM_KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    // Chosen, so that the first start does not print a generated password.
    BOOTSTRAP_ADMIN_PASSWORD: randomBytes(24).toString("base64"),
    LOG_LEVEL: "warn",
    // The chaos is about rules, not hashing: the lowest cost keeps the steps quick.
    BCRYPT_COST: "4",
    LOG_COLLECT_INTERVAL_SECONDS: "0",
    // Hundreds of wrong passwords on purpose, all from 127.0.0.1.
    LOGIN_MAX_FAILURES: "1000",
    LOGIN_CLIENT_MAX_FAILURES: "1000000",
    RATE_LIMIT_ENABLED: "false",
    DNS_SERVERS: "127.0.0.1:9",
  });
  // Errors the server logs (a 500 among them) go to stderr with the run's own lines.
  const app: RunningApp = await startApp(config, createLogger(config.LOG_LEVEL, process.stderr));
  try {
    await app.server.listen({ host: config.HOST, port: config.PORT });
    const address = app.server.server.address();
    if (!address || typeof address === "string") throw new Error("server has no TCP address");
    process.stderr.write(`chaos run, seed ${seed}, ${external ? "PostgreSQL" : "embedded database"}, ${Number.isFinite(steps) ? `${steps} steps` : `${minutes} minutes`}\n`);
    const started = Date.now();
    const report = await runChaos(
      { url: `http://127.0.0.1:${address.port}`, db: app.deps.db, passwords: app.deps.passwords, defaultMailboxQuotaMb: config.DEFAULT_MAILBOX_QUOTA_MB },
      {
        seed,
        maxSteps: steps,
        until: started + minutes * 60_000,
        progressEvery: 500,
        onProgress: (sofar) =>
          process.stderr.write(
            `  ${Math.round((Date.now() - started) / 1000)} s: ${sofar.steps} steps, ${sofar.accepted} accepted, ${sofar.refused} refused, ${sofar.finalState.domains} domains, ${sofar.finalState.accounts} accounts\n`,
          ),
      },
    );
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`${describeReport(report)}\n${Math.round(seconds)} s, ${Math.round(report.steps / seconds)} steps/s\n`);
    process.stdout.write(`replay: ${external ? "DATABASE_URL=... " : ""}npm run bench:chaos -- --seed ${seed} --steps ${report.steps}\n`);
    if (report.violations.length > 0) process.exitCode = 1;
  } finally {
    await app.close();
  }
}

runBench(main);
