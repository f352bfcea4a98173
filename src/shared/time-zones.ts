// IANA time zones, as settings (SERVICE_TIME_ZONE, a log source's timeZone) and API arguments name them.

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}
