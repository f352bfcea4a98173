// Translates the database's refusals into AppErrors. The constraints are the
// last line of defence (services check first); when two requests race, the
// loser gets the same CONFLICT a sequential request would have got.
import { AppError, ConflictError, ServiceUnavailableError } from "../errors";

interface PrismaLikeError {
  code?: string;
  meta?: {
    target?: unknown;
    modelName?: string;
    driverAdapterError?: { cause?: { constraint?: { fields?: string[] }; kind?: string; originalCode?: string } };
  };
  message?: string;
  name?: string;
}

// Socket errors, and SQLSTATEs of a server going away or not taking connections:
// admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections,
// the connection_exception class, and query_canceled (statement_timeout: the
// database is too slow to answer now, which the caller handles the same way).
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P02", "57P03", "53300", "57014", "08000", "08006", "08001", "08003", "08004"]);
// What the Prisma pg adapter calls the same failures (in meta.driverAdapterError.cause.kind).
const CONNECTION_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

export function isUniqueViolation(error: unknown): error is PrismaLikeError {
  return (error as PrismaLikeError | null)?.code === "P2002";
}

/** Fields of the unique constraint a P2002 error names, when the driver tells. */
export function uniqueViolationFields(error: PrismaLikeError): string[] {
  const target = error.meta?.target;
  if (Array.isArray(target)) return target.map(String);
  if (typeof target === "string") return [target];
  return error.meta?.driverAdapterError?.cause?.constraint?.fields ?? [];
}

export function isConnectionFailure(error: unknown): boolean {
  const candidate = error as (PrismaLikeError & { cause?: unknown }) | null;
  if (!candidate) return false;
  if (candidate.code && CONNECTION_CODES.has(candidate.code)) return true;
  const adapterCause = candidate.meta?.driverAdapterError?.cause;
  if (adapterCause?.kind && CONNECTION_KINDS.has(adapterCause.kind)) return true;
  if (adapterCause?.originalCode && CONNECTION_CODES.has(adapterCause.originalCode)) return true;
  if (candidate.code === "P1001" || candidate.code === "P1017" || candidate.code === "P2024") return true;
  if (
    /Can't reach database server|Connection terminated|connection refused|timeout exceeded when trying to connect|not queryable|did not answer within/i.test(
      candidate.message ?? "",
    )
  ) {
    return true;
  }
  return candidate.cause !== undefined && candidate.cause !== error && isConnectionFailure(candidate.cause);
}

/** An AppError for a database error that has a meaning for the caller, or undefined. */
export function fromDatabaseError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isUniqueViolation(error)) {
    const fields = uniqueViolationFields(error);
    return new ConflictError("That already exists (another request may have just created it).", fields[0]);
  }
  if (isConnectionFailure(error)) return new ServiceUnavailableError();
  // P2028: no connection came free to start a transaction in time (a busy
  // embedded database, a saturated pool): the caller may simply retry.
  if ((error as PrismaLikeError | null)?.code === "P2028") return new ServiceUnavailableError("The database is busy; try again in a moment.");
  return undefined;
}
