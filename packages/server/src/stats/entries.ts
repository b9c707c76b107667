/**
 * Stats entries in Ably's flat form (`messages.inbound.realtime.messages.count`). Nodes count leaf
 * entries; `withRollups` adds the `all` totals before they are stored, and `mergeStatsEntry` says
 * how two values of one entry combine when minutes are added up into hours, days and months.
 */

/** Combines two values of `name`: peaks keep the larger, minima the smaller, counts add up. */
export function mergeStatsEntry(name: string, existing: number | undefined, value: number): number {
  if (existing === undefined) return value;
  if (name.endsWith('.peak')) return Math.max(existing, value);
  if (name.endsWith('.min')) return Math.min(existing, value);
  return existing + value;
}

export function mergeStatsEntries(target: Record<string, number>, add: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(add)) target[name] = mergeStatsEntry(name, target[name], value);
}

function addTo(out: Record<string, number>, name: string, value: number): void {
  out[name] = (out[name] ?? 0) + value;
}

/**
 * The leaf entries plus their `all` totals, as Ably reports them: per direction and transport,
 * per message type, and overall (`messages.all.all.count` = inbound + outbound); connections over
 * tls and plain; api requests over token and other requests. Existing `all` entries are left alone.
 */
export function withRollups(leaves: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...leaves };
  for (const [name, value] of Object.entries(leaves)) {
    const p = name.split('.');
    if (
      p[0] === 'messages' &&
      (p[1] === 'inbound' || p[1] === 'outbound') &&
      p.length === 5 &&
      p[2] !== 'all' &&
      p[3] !== 'all'
    ) {
      const [, dir, transport, type, metric] = p;
      addTo(out, `messages.${dir}.${transport}.all.${metric}`, value);
      addTo(out, `messages.${dir}.all.${type}.${metric}`, value);
      addTo(out, `messages.${dir}.all.all.${metric}`, value);
      addTo(out, `messages.all.${type}.${metric}`, value);
      addTo(out, `messages.all.all.${metric}`, value);
    } else if (p[0] === 'messages' && p[1] === 'persisted' && p.length === 4 && p[2] !== 'all') {
      addTo(out, `messages.persisted.all.${p[3]}`, value);
    } else if ((p[0] === 'connections' || p[0] === 'apiRequests') && p.length === 3 && p[1] !== 'all') {
      addTo(out, `${p[0]}.all.${p[2]}`, value);
    }
  }
  return out;
}
