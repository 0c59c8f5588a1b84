/**
 * Picks the response type from an Accept header (RFC 9110 §12.5.1): highest q wins; between equal
 * q, a type named exactly beats a wildcard, then the earlier one in the header; a bare `*\/*` (or
 * no header) gets the first offer. Null when nothing offered is acceptable.
 */
export function preferredType<T extends string>(accept: string | undefined, offers: readonly T[]): T | null {
  if (accept === undefined || accept.trim() === "") return offers[0] ?? null;
  const ranges = accept.split(",").flatMap((part, position) => {
    const [range = "", ...params] = part.trim().toLowerCase().split(";");
    const [type, subtype] = range.trim().split("/");
    if (type === undefined || subtype === undefined) return [];
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find((m) => m !== null);
    return [{ type: type.trim(), subtype: subtype.trim(), q: q ? Number(q[1]) : 1, position }];
  });
  let best: { offer: T; q: number; specificity: number; position: number; index: number } | null = null;
  offers.forEach((offer, index) => {
    const [type, subtype] = offer.split("/");
    let match: { q: number; specificity: number; position: number } | null = null;
    for (const r of ranges) {
      const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === "*" ? 1 : r.type === "*" && r.subtype === "*" ? 0 : -1;
      if (specificity < 0 || (match !== null && match.specificity >= specificity)) continue;
      match = { q: r.q, specificity, position: r.position };
    }
    if (match === null || !(match.q > 0)) return;
    const candidate = { offer, ...match, index };
    if (best === null || better(candidate, best)) best = candidate;
  });
  return (best as { offer: T } | null)?.offer ?? null;
}

function better(a: { q: number; specificity: number; position: number; index: number }, b: typeof a): boolean {
  if (a.q !== b.q) return a.q > b.q;
  const aExact = a.specificity === 2;
  const bExact = b.specificity === 2;
  if (aExact !== bExact) return aExact;
  if (aExact && a.position !== b.position) return a.position < b.position;
  return a.index < b.index;
}
