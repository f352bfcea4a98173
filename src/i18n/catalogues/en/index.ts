// English: the catalogue every other language follows (same ids, same
// placeholders; test/i18n/catalogues.test.ts checks). One file per capability,
// so that work on one capability's texts touches its own file; ids start with
// the capability's name (dns., diagnosis., ...). ICU MessageFormat: {name}
// inserts a value, {n, plural, ...} and {mb, number} format by language.
import { core } from "./core";
import { dns } from "./dns";
import { diagnosis } from "./diagnosis";
import { probe } from "./probe";
import { imports } from "./imports";
import { services } from "./services";
import { ide } from "./ide";
import { cli } from "./cli";
import { rest } from "./rest";

export const en = { ...core, ...dns, ...diagnosis, ...probe, ...imports, ...services, ...ide, ...cli, ...rest } as const;

export type MessageId = keyof typeof en;
