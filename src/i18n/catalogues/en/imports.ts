// English messages of imports (see ./index.ts for how the catalogues fit together):
// the row errors of an account import, why a whole file is refused, why an
// import stopped, and the refusals of the import API itself (GraphQL and REST).
// Numbers that are row or line numbers, or limits named by a setting, are put
// in as text (no digit grouping: "row 12000", "IMPORT_MAX_ROWS 100000").
export const imports = {
  // src/imports/imports.parse.ts: the file as a whole.
  "imports.file.csv_unreadable": "The CSV cannot be read: {reason}",
  "imports.file.csv_unreadable_at_line": "The CSV cannot be read at line {line}: {reason}",
  "imports.file.empty": "The file is empty: the first line must name the columns ({columns}).",
  "imports.file.too_many_rows": "The file has more than {max} rows (IMPORT_MAX_ROWS): split it.",
  "imports.file.too_large": "The file is larger than {max} MiB (IMPORT_MAX_MB): split it.",
  "imports.file.unknown_column": 'Unknown column "{name}" in the header (line 1): the columns are {columns}.',
  "imports.file.column_twice": "The column {column} appears twice in the header (line 1).",
  "imports.file.no_address_column": "The header (line 1) has no address column: the columns are {columns}.",
  "imports.file.no_password_column": "The header (line 1) needs a password or a passwordHash column (accounts), or a destinations column (aliases).",
  "imports.file.no_rows": "The file holds no rows.",

  // src/imports/imports.parse.ts: one row as read.
  "imports.row.cell_count": "The row has {cells} values but the header names {columns} columns.",
  "imports.row.line_not_json": "Line {line} is not JSON: each line must be one object such as {example}.",
  "imports.row.line_not_object": "Line {line} is not a JSON object.",
  "imports.row.unknown_field": 'Unknown field "{name}": the fields are {columns}.',

  // src/imports/imports.rows.ts: one row's values and the rules createAccount applies.
  "imports.row.must_be_text": "{field} must be text.",
  "imports.row.address_missing": "address is missing.",
  "imports.row.destinations_format": "destinations must be e-mail addresses: a list in JSON, or separated by commas, semicolons or spaces in CSV.",
  "imports.row.destinations_empty": "Give at least one destination address.",
  "imports.row.alias_extra_column": "A row with destinations is an alias: it takes no {column} (leave it empty, or leave destinations empty for a mailbox).",
  "imports.row.password_and_hash": "Give password or passwordHash, not both.",
  "imports.row.password_hash": "passwordHash must be a bcrypt hash such as $2b$12$ followed by 53 characters ($2a$, $2b$ or $2y$).",
  "imports.row.password_missing": "password (or passwordHash) is missing.",
  "imports.row.quota": "quotaMb must be a whole number of MiB, from 0 to {max} (got {value}).",
  "imports.row.status": "status must be ACTIVE or SUSPENDED (got {value}).",
  "imports.row.address_twice": "{address} appears twice in the file: row {first} has it already.",
  "imports.row.account_exists": "An account {address} already exists.",
  "imports.row.alias_exists": "An alias {address} already exists.",
  "imports.row.max_accounts": "The domain {domain} would have more than its maximum of {max} accounts (counting the rows above); raise maxAccounts or import fewer.",

  // src/imports/imports.run.ts: why an import stopped (AccountImport.failure).
  "imports.failure.nothing_created": "nothing was created",
  "imports.failure.some_created": "the {count} accounts of the rows before it were created (auditLog lists them)",
  "imports.failure.stopped": "The server stopped during the import; {created}. Run it again: the rows created already are then refused as existing.",
  "imports.failure.database": "{error} The import stopped; {created}.",
  "imports.failure.internal": "Internal error; {created}. It has been logged with the import's id {id}.",

  // src/imports/imports.service.ts, imports.jobs.ts: the import API's refusals.
  "imports.read_only_support": "Your support account is read-only: it may not import accounts. Ask a full support administrator.",
  "imports.not_importer": "Only support staff and domain administrators may import accounts.",
  "imports.too_many_open": "You already have {count} imports uploading or running; wait for one to finish (accountImport) before starting another.",
  "imports.not_found": "No import with id {id} exists, or you may not see it.",
  "imports.content_complete": "The import {id} has all its content already.",
  "imports.failure.server_gone": "The server running this import stopped before it finished; {created}. Run it again: the rows created already are then refused as existing.",
  "imports.already_uploaded": "The import {id} has all its content already (it is {phase}).",

  // src/rest/imports.routes.ts: the file as a REST request body.
  "imports.rest.not_utf8": "The file is not UTF-8 text: save it as UTF-8 (in Excel: CSV UTF-8), or name its encoding in the Content-Type, such as text/csv; charset=big5.",
  "imports.rest.unknown_charset": "The charset {charset} in the Content-Type is not one this server reads: send UTF-8.",
  "imports.rest.format_mismatch": "format={format} does not match the Content-Type {mediaType}: send JSON lines as application/x-ndjson and CSV as text/csv.",
  "imports.rest.media_type": "Send the file itself as the request body, with the Content-Type {types} (got {got}).",
  "imports.rest.media_type_none": "none",
  "imports.rest.no_body": "Send the file as the request body, with the Content-Type {types}.",
} as const;
