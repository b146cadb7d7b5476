/** A non-negative integer setting from the environment (a count or a byte size); null when unset or not one. */
export function envCount(text: string | undefined): number | null {
  const n = Number(text);
  return text !== undefined && text !== "" && Number.isSafeInteger(n) && n >= 0 ? n : null;
}
