// Where the repository's files are (schema.graphql, prisma/, the IDE's public/ folder), from src/ and a build folder alike.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** Root of the repository: the nearest folder above this file holding schema.graphql (from src/ or a build folder alike). */
export const projectRoot = (() => {
  for (let directory = __dirname; directory !== dirname(directory); directory = dirname(directory)) {
    if (existsSync(join(directory, "schema.graphql"))) return directory;
  }
  throw new Error(`schema.graphql not found above ${__dirname}`);
})();
